package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
)

// scaledObject is the part of a KEDA ScaledObject (keda.sh/v1alpha1) the HPA is made from.
type scaledObject struct {
	Metadata metav1.ObjectMeta `json:"metadata"`
	Spec     struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		Advanced        *struct {
			HorizontalPodAutoscalerConfig *struct {
				Name     string                                         `json:"name"`
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior"`
			} `json:"horizontalPodAutoscalerConfig"`
		} `json:"advanced"`
		Triggers []struct {
			Type       string                         `json:"type"`
			MetricType autoscalingv2.MetricTargetType `json:"metricType"`
			Metadata   map[string]string              `json:"metadata"`
		} `json:"triggers"`
	} `json:"spec"`
}

// normalize is KEDA's kedautil.NormalizeString: "/", ".", ":", "%", "(" and ")" become "-".
func normalize(s string) string {
	return strings.NewReplacer("/", "-", ".", "-", ":", "-", "%", "-", "(", "-", ")", "-").Replace(s)
}

// hpaFromScaledObject is the HPA KEDA v2.20.2's operator creates for a ScaledObject
// (controllers/keda/hpa.go newHPAForScaledObject): name keda-hpa-<name> unless
// advanced.horizontalPodAutoscalerConfig.name, minReplicas = minReplicaCount when > 0 else 1,
// maxReplicas = maxReplicaCount (default 100), behavior copied as is, one External metric per
// trigger named s<i>-<scaler> with the scaler's target (AverageValue unless metricType) and the
// selector scaledobject.keda.sh/name=<name>. Then the API server's autoscaling/v2 defaulting
// (SetDefaults_HorizontalPodAutoscaler), as the stored object the HPA controller reads.
func hpaFromScaledObject(raw json.RawMessage) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	var so scaledObject
	if err := json.Unmarshal(raw, &so); err != nil {
		return nil, fmt.Errorf("scaledObject: %w", err)
	}
	s := so.Spec
	name := "keda-hpa-" + so.Metadata.Name
	var behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
	if s.Advanced != nil && s.Advanced.HorizontalPodAutoscalerConfig != nil {
		if n := s.Advanced.HorizontalPodAutoscalerConfig.Name; n != "" {
			name = n
		}
		behavior = s.Advanced.HorizontalPodAutoscalerConfig.Behavior
	}
	minReplicas := int32(1)
	if s.MinReplicaCount != nil && *s.MinReplicaCount > 0 {
		minReplicas = *s.MinReplicaCount
	}
	maxReplicas := int32(100)
	if s.MaxReplicaCount != nil {
		maxReplicas = *s.MaxReplicaCount
	}
	var metrics []autoscalingv2.MetricSpec
	for i, t := range s.Triggers {
		m, err := triggerMetric(i, t.Type, t.MetricType, t.Metadata)
		if err != nil {
			return nil, err
		}
		m.External.Metric.Selector = &metav1.LabelSelector{
			MatchLabels: map[string]string{"scaledobject.keda.sh/name": so.Metadata.Name},
		}
		metrics = append(metrics, m)
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: so.Metadata.Namespace, UID: types.UID("hpa-" + so.Metadata.Name)},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: s.ScaleTargetRef.APIVersion, Kind: s.ScaleTargetRef.Kind, Name: s.ScaleTargetRef.Name,
			},
			MinReplicas: &minReplicas,
			MaxReplicas: maxReplicas,
			Metrics:     metrics,
			Behavior:    behavior,
		},
	}
	legacyscheme.Scheme.Default(hpa)
	return hpa, nil
}

// triggerMetric is the External metric spec of KEDA's prometheus and aws-sqs-queue scalers
// (GetMetricSpecForScaling): prometheus s<i>-prometheus with target threshold (milli scale);
// aws-sqs-queue s<i>-aws-sqs-<queue name> with target queueLength (default 5).
func triggerMetric(i int, typ string, metricType autoscalingv2.MetricTargetType, md map[string]string) (autoscalingv2.MetricSpec, error) {
	if metricType == "" {
		metricType = autoscalingv2.AverageValueMetricType
	}
	var name, value string
	switch typ {
	case "prometheus":
		name, value = "prometheus", md["threshold"]
	case "aws-sqs-queue":
		// The queue name is the URL path's third part (https://sqs.<region>.amazonaws.com/<account>/<queue>).
		url := md["queueURL"]
		name = "aws-sqs-" + url[strings.LastIndex(url, "/")+1:]
		value = md["queueLength"]
		if value == "" {
			value = "5"
		}
	default:
		return autoscalingv2.MetricSpec{}, fmt.Errorf("trigger %d: type %q is not modelled", i, typ)
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return autoscalingv2.MetricSpec{}, fmt.Errorf("trigger %d: target %q: %w", i, value, err)
	}
	q := resource.NewMilliQuantity(int64(f*1000), resource.DecimalSI)
	target := autoscalingv2.MetricTarget{Type: metricType}
	if metricType == autoscalingv2.AverageValueMetricType {
		target.AverageValue = q
	} else {
		target.Value = q
	}
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: fmt.Sprintf("s%d-%s", i, normalize(name))},
			Target: target,
		},
	}, nil
}
