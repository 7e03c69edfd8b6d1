package main

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubernetes/pkg/controller/job"
	"k8s.io/kubernetes/pkg/controller/statefulset"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	"sigs.k8s.io/kueue/pkg/controller/jobframework"
	kueuejob "sigs.k8s.io/kueue/pkg/controller/jobs/job"
	"sigs.k8s.io/kueue/pkg/podset"
)

const kueueAdmitsNote = "suspended by Kueue: children are what the job controller creates once Kueue " +
	"admits the workload (Kueue's Job.RunWithPodSetsInfo); the node selector, tolerations, labels " +
	"and annotations Kueue copies from the assigned ResourceFlavor are not modelled here"

// jobChildren runs the job controller's sync on the Job. A Job Kueue manages is suspended at
// creation; its pods appear when Kueue admits it, so the engine first resumes it the way Kueue
// does on admission (without a flavor assignment). A Job its author suspended creates nothing.
func (e *engine) jobChildren(ctx context.Context, j *batchv1.Job, r *result) (*controllerRun, error) {
	j = j.DeepCopy()
	if ptr.Deref(j.Spec.Suspend, false) {
		managed, err := e.kueueManages(ctx, j)
		if err != nil {
			return nil, err
		}
		if !managed {
			r.Notes = append(r.Notes, "suspended: the job controller creates no pods")
			return nil, nil
		}
		count := ptr.Deref(j.Spec.Parallelism, 1)
		info := podset.PodSetInfo{Name: kueue.DefaultPodSetName, Count: count}
		if err := (*kueuejob.Job)(j).RunWithPodSetsInfo(ctx, nil, []podset.PodSetInfo{info}); err != nil {
			return nil, err
		}
		r.Notes = append(r.Notes, kueueAdmitsNote)
	}
	run := e.newRun(ctx, "job-controller", j)
	f := run.factory
	jm, err := job.NewController(ctx, run.client, f.Core().V1().Pods(), f.Batch().V1().Jobs(), nil, nil)
	if err != nil {
		return nil, err
	}
	if err := run.fill(); err != nil {
		return nil, err
	}
	return run, syncJob(jm, ctx, key(j))
}

// kueueManages asks Kueue's jobframework whether it suspends this object (queue name, or
// manageJobsWithoutQueueName, within managedJobsNamespaceSelector).
func (e *engine) kueueManages(ctx context.Context, obj client.Object) (bool, error) {
	if e.kueue == nil {
		return false, nil
	}
	cfg := e.kueue.config
	selector, err := metav1.LabelSelectorAsSelector(cfg.ManagedJobsNamespaceSelector)
	if err != nil {
		return false, err
	}
	return jobframework.WorkloadShouldBeSuspended(ctx, obj, e.kueue.client, cfg.ManageJobsWithoutQueueName, selector)
}

// statefulSetChildren runs the statefulset controller until it creates nothing more. Between
// syncs every pod it created is reported Running and Ready (as the kubelet would), which is what
// OrderedReady waits for before creating the next ordinal.
func (e *engine) statefulSetChildren(ctx context.Context, set *appsv1.StatefulSet) (*controllerRun, error) {
	run := e.newRun(ctx, "statefulset-controller", set)
	f := run.factory
	ssc := statefulset.NewStatefulSetController(ctx, f.Core().V1().Pods(), f.Apps().V1().StatefulSets(),
		f.Core().V1().PersistentVolumeClaims(), f.Apps().V1().ControllerRevisions(), run.client)
	limit := int(ptr.Deref(set.Spec.Replicas, 1)) + 2
	for range limit {
		before := len(run.created)
		if err := run.fill(); err != nil {
			return run, err
		}
		if err := syncStatefulSet(ssc, ctx, key(set)); err != nil {
			return run, err
		}
		if len(run.created) == before {
			break
		}
		if err := run.markPodsReady(e.now); err != nil {
			return run, err
		}
	}
	return run, nil
}

// markPodsReady reports every stored pod Running and Ready.
func (c *controllerRun) markPodsReady(now time.Time) error {
	gvr := corev1.SchemeGroupVersion.WithResource("pods")
	list, err := c.client.Tracker().List(gvr, corev1.SchemeGroupVersion.WithKind("Pod"), "")
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	since := metav1.NewTime(now.Add(-time.Hour))
	for _, item := range items {
		pod := item.(*corev1.Pod).DeepCopy()
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: since,
		}}
		if err := c.client.Tracker().Update(gvr, pod, pod.Namespace); err != nil {
			return err
		}
	}
	return nil
}

// unmodelledControllers are controllers of custom resources whose construction code the engine
// does not run, and why.
var unmodelledControllers = map[string]string{
	"JobSet.jobset.x-k8s.io": "children not modelled: sigs.k8s.io/jobset v0.12.0 and sigs.k8s.io/kueue v0.19.2 " +
		"register the feature gate TLSOptions with different specs in the one process-wide registry, " +
		"so JobSet's controller and webhooks cannot run beside Kueue's in this binary",
	"LeaderWorkerSet.leaderworkerset.x-k8s.io": "children not modelled: the LWS controller module at the deployed version (v0.10.0) is not available from the Go module proxy",
	"RayJob.ray.io":     "children not modelled: the KubeRay operator module at the deployed version (v1.7.0) is not available from the Go module proxy",
	"RayCluster.ray.io": "children not modelled: the KubeRay operator module at the deployed version (v1.7.0) is not available from the Go module proxy",
}
