package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	metricsclient "k8s.io/kubernetes/pkg/controller/podautoscaler/metrics"
)

// seriesMetrics is KEDA's metrics server as the HPA controller's metrics client sees it: the
// external metric s<i>-... has, from sample.at on, the value sample.values[i] (the HPA reads
// external metrics in milli-units).
type seriesMetrics struct {
	samples []sample
	now     int
}

var errNotServed = errors.New("only external metrics are served")

func (m *seriesMetrics) GetResourceMetric(context.Context, corev1.ResourceName, string, labels.Selector, string) (metricsclient.PodMetricsInfo, time.Time, error) {
	return nil, time.Time{}, errNotServed
}

func (m *seriesMetrics) GetRawMetric(string, string, labels.Selector, labels.Selector) (metricsclient.PodMetricsInfo, time.Time, error) {
	return nil, time.Time{}, errNotServed
}

func (m *seriesMetrics) GetObjectMetric(string, string, *autoscalingv2.CrossVersionObjectReference, labels.Selector) (int64, time.Time, error) {
	return 0, time.Time{}, errNotServed
}

func (m *seriesMetrics) GetExternalMetric(name, _ string, _ labels.Selector) ([]int64, time.Time, error) {
	var index int
	if _, err := fmt.Sscanf(name, "s%d-", &index); err != nil || !strings.HasPrefix(name, "s") {
		return nil, time.Time{}, fmt.Errorf("external metric %q is not a KEDA trigger's", name)
	}
	var current *sample
	for i := range m.samples {
		if m.samples[i].At <= m.now {
			current = &m.samples[i]
		}
	}
	if current == nil || index >= len(current.Values) {
		return nil, time.Time{}, fmt.Errorf("no value of external metric %q at %d s", name, m.now)
	}
	return []int64{int64(current.Values[index] * 1000)}, time.Now(), nil
}
