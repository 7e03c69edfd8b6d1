package main

import (
	"fmt"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	jobsetapi "sigs.k8s.io/jobset/api/jobset/v1alpha2"

	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
)

func (e *env) get(r ref) (client.Object, error) {
	var obj client.Object
	switch r.Kind {
	case "Job":
		obj = &batchv1.Job{}
	case "JobSet":
		obj = &jobsetapi.JobSet{}
	case "Deployment":
		obj = &appsv1.Deployment{}
	case "StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "Pod":
		obj = &corev1.Pod{}
	case "Workload":
		obj = &kueue.Workload{}
	default:
		return nil, fmt.Errorf("events on %s are not supported", r.Kind)
	}
	err := e.cl.Get(e.ctx, types.NamespacedName{Namespace: r.Namespace, Name: r.Name}, obj)
	return obj, err
}

// scale changes a Deployment's or StatefulSet's replicas, as KEDA or a user would: the update goes
// through Kueue's webhooks first, and a denial is returned as the user would read it.
func (e *env) scale(r ref) (*rejection, error) {
	obj, err := e.get(r)
	if err != nil {
		return nil, err
	}
	want := ptr.Deref(r.Replicas, 0)
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Replicas = &want
	case *appsv1.StatefulSet:
		o.Spec.Replicas = &want
	default:
		return nil, fmt.Errorf("cannot scale a %s", r.Kind)
	}
	stored, err := e.get(r)
	if err != nil {
		return nil, err
	}
	updated, denied, err := e.review(admissionv1.Update, stored, obj)
	if err != nil {
		return nil, err
	}
	if denied != "" {
		return &rejection{r.Kind, r.Namespace, r.Name, denied}, nil
	}
	if err := e.cl.Update(e.ctx, updated); err != nil {
		return nil, err
	}
	switch o := updated.(type) {
	case *appsv1.Deployment:
		rs := &appsv1.ReplicaSet{}
		if err := e.cl.Get(e.ctx, types.NamespacedName{Namespace: o.Namespace, Name: o.Name + "-rs"}, rs); err != nil {
			return nil, err
		}
		return nil, e.scalePods(rs, "ReplicaSet", rs.Spec.Template, want)
	case *appsv1.StatefulSet:
		return nil, e.scalePods(o, "StatefulSet", o.Spec.Template, want)
	}
	return nil, nil
}

// finish marks a job as completed the way its own controller reports it.
func (e *env) finish(r ref) error {
	obj, err := e.get(r)
	if err != nil {
		return err
	}
	now := metav1.NewTime(e.clock.Now())
	switch o := obj.(type) {
	case *batchv1.Job:
		o.Status.Succeeded = ptr.Deref(o.Spec.Completions, 1)
		o.Status.CompletionTime = &now
		o.Status.Conditions = append(o.Status.Conditions,
			batchv1.JobCondition{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now})
	case *jobsetapi.JobSet:
		o.Status.TerminalState = string(jobsetapi.JobSetCompleted)
		o.Status.Conditions = append(o.Status.Conditions, metav1.Condition{Type: string(jobsetapi.JobSetCompleted),
			Status: metav1.ConditionTrue, Reason: "AllJobsCompleted", LastTransitionTime: now})
	case *corev1.Pod:
		o.Status.Phase = corev1.PodSucceeded
	default:
		return fmt.Errorf("cannot finish a %s", r.Kind)
	}
	return e.cl.Status().Update(e.ctx, obj)
}

// remove deletes an object and, as the garbage collector would, the pods and Workloads it controls.
func (e *env) remove(r ref) error {
	obj, err := e.get(r)
	if err != nil {
		return err
	}
	if err := e.cl.Delete(e.ctx, obj); err != nil {
		return err
	}
	var pods corev1.PodList
	if err := e.cl.List(e.ctx, &pods, client.InNamespace(r.Namespace)); err != nil {
		return err
	}
	for i := range pods.Items {
		if c := metav1.GetControllerOf(&pods.Items[i]); c != nil && c.UID == obj.GetUID() {
			if err := e.cl.Delete(e.ctx, &pods.Items[i]); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
	}
	var workloads kueue.WorkloadList
	if err := e.cl.List(e.ctx, &workloads, client.InNamespace(r.Namespace)); err != nil {
		return err
	}
	for i := range workloads.Items {
		if c := metav1.GetControllerOf(&workloads.Items[i]); c != nil && c.UID == obj.GetUID() {
			if err := e.cl.Delete(e.ctx, &workloads.Items[i]); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
	}
	return nil
}

func (e *env) apply(s step) ([]rejection, error) {
	e.clock.Step(time.Second)
	rejected := []rejection{}
	for _, raw := range s.Submit {
		rej, err := e.submit(raw)
		if err != nil {
			return nil, err
		}
		if rej != nil {
			rejected = append(rejected, *rej)
		}
	}
	for _, r := range s.Scale {
		rej, err := e.scale(r)
		if err != nil {
			return nil, err
		}
		if rej != nil {
			rejected = append(rejected, *rej)
		}
	}
	for _, r := range s.Finish {
		if err := e.finish(r); err != nil {
			return nil, err
		}
	}
	for _, r := range s.Delete {
		if err := e.remove(r); err != nil {
			return nil, err
		}
	}
	return rejected, e.settle()
}
