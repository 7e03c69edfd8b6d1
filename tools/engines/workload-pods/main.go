// Command workload-pods: what the JobSet, KubeRay and LeaderWorkerSet operators create from a
// JobSet, RayCluster, RayJob or LeaderWorkerSet, computed by the operators' own code
// (sigs.k8s.io/jobset v0.12.0; KubeRay ray-operator v1.6.2 and sigs.k8s.io/lws v0.9.0, the
// versions the kueue engine links: the module proxy serves no source of ray-operator v1.7.0 or
// lws v0.10.0, the charts' versions). JSON in on stdin ({"objects": [...]}, each object as the
// operator reads it, e.g. as Kueue resumed it), JSON out ({"results": [{"children", "notes"}]},
// one per object). The children are the objects the operators CREATE: a JobSet's Jobs, a
// RayCluster's head and worker Pods, a RayJob's RayCluster and that cluster's Pods, a
// LeaderWorkerSet's leader StatefulSet, its pods, each group's worker StatefulSet and its pods
// (lws.go). The apiserver engine then creates them as their creators' service accounts.
//
// The functions are unexported in the operators' packages; the engine links to them by name:
// JobSet's webhook defaulting ((*jobSetWebhook).Default, which reads no webhook state) and its
// controller's constructJob; KubeRay's (*RayJobReconciler).constructRayClusterForRayJob and
// (*RayClusterReconciler).buildHeadPod/buildWorkerPod (with the default reconciler options:
// no sidecars, no batch scheduler).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"unsafe"

	rayv1 "github.com/ray-project/kuberay/ray-operator/apis/ray/v1"
	ray "github.com/ray-project/kuberay/ray-operator/controllers/ray"
	rayutils "github.com/ray-project/kuberay/ray-operator/controllers/ray/utils"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	jobset "sigs.k8s.io/jobset/api/jobset/v1alpha2"
	jobsetcontrollers "sigs.k8s.io/jobset/pkg/controllers"
	jobsetwebhooks "sigs.k8s.io/jobset/pkg/webhooks"
	lwsv1 "sigs.k8s.io/lws/api/leaderworkerset/v1"

	_ "unsafe" // go:linkname
)

//go:linkname jobSetDefault sigs.k8s.io/jobset/pkg/webhooks.(*jobSetWebhook).Default
func jobSetDefault(w unsafe.Pointer, ctx context.Context, js *jobset.JobSet) error

//go:linkname constructJob sigs.k8s.io/jobset/pkg/controllers.constructJob
func constructJob(js *jobset.JobSet, rjob *jobset.ReplicatedJob, jobIdx int) *batchv1.Job

//go:linkname constructRayClusterForRayJob github.com/ray-project/kuberay/ray-operator/controllers/ray.(*RayJobReconciler).constructRayClusterForRayJob
func constructRayClusterForRayJob(r *ray.RayJobReconciler, job *rayv1.RayJob, name string) (*rayv1.RayCluster, error)

//go:linkname buildHeadPod github.com/ray-project/kuberay/ray-operator/controllers/ray.(*RayClusterReconciler).buildHeadPod
func buildHeadPod(r *ray.RayClusterReconciler, ctx context.Context, instance rayv1.RayCluster) corev1.Pod

//go:linkname buildWorkerPod github.com/ray-project/kuberay/ray-operator/controllers/ray.(*RayClusterReconciler).buildWorkerPod
func buildWorkerPod(r *ray.RayClusterReconciler, ctx context.Context, instance rayv1.RayCluster, worker rayv1.WorkerGroupSpec, replicaGrpName string, replicaIndex int, hostIndex int) corev1.Pod

var (
	_ = jobsetwebhooks.Setup // the packages linked above
	_ = jobsetcontrollers.NewJobSetReconciler
)

type request struct {
	Objects []json.RawMessage `json:"objects"`
}

type result struct {
	Children []runtime.Object `json:"children"`
	Notes    []string         `json:"notes"`
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, jobset.AddToScheme, rayv1.AddToScheme, lwsv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

func main() {
	// Random name suffixes (KubeRay's worker pods, a RayJob's cluster) from a fixed seed: the
	// same request gives the same names.
	utilrand.Seed(1)
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fail(err)
	}
	s := newScheme()
	out := struct {
		Results []result `json:"results"`
	}{Results: []result{}}
	for i, raw := range req.Objects {
		r, err := children(context.Background(), s, raw)
		if err != nil {
			fail(fmt.Errorf("objects[%d]: %w", i, err))
		}
		out.Results = append(out.Results, r)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "workload-pods:", err)
	os.Exit(1)
}

func children(ctx context.Context, s *runtime.Scheme, raw []byte) (result, error) {
	var meta struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return result{}, err
	}
	switch meta.Kind {
	case "JobSet":
		js := &jobset.JobSet{}
		if err := json.Unmarshal(raw, js); err != nil {
			return result{}, err
		}
		return jobSetJobs(ctx, s, js)
	case "RayCluster":
		rc := &rayv1.RayCluster{}
		if err := json.Unmarshal(raw, rc); err != nil {
			return result{}, err
		}
		return rayClusterPods(ctx, s, rc)
	case "RayJob":
		rj := &rayv1.RayJob{}
		if err := json.Unmarshal(raw, rj); err != nil {
			return result{}, err
		}
		return rayJobChildren(ctx, s, rj)
	case "LeaderWorkerSet":
		lws := &lwsv1.LeaderWorkerSet{}
		if err := json.Unmarshal(raw, lws); err != nil {
			return result{}, err
		}
		return lwsChildren(ctx, s, lws)
	}
	return result{}, fmt.Errorf("kind %q: only JobSet, RayCluster, RayJob and LeaderWorkerSet", meta.Kind)
}

// jobSetJobs: the JobSet as its mutating webhook leaves it, then every Job the controller
// creates (replicas of each replicated job), owned by the JobSet.
func jobSetJobs(ctx context.Context, s *runtime.Scheme, js *jobset.JobSet) (result, error) {
	if err := jobSetDefault(nil, ctx, js); err != nil {
		return result{}, err
	}
	r := result{Children: []runtime.Object{}, Notes: []string{
		"JobSet's validating webhook, its headless Service and its PVCs (volumeClaimPolicies) are not modelled",
	}}
	for i := range js.Spec.ReplicatedJobs {
		rjob := &js.Spec.ReplicatedJobs[i]
		for idx := 0; idx < int(rjob.Replicas); idx++ {
			job := constructJob(js, rjob, idx)
			if err := controllerutil.SetControllerReference(js, job, s); err != nil {
				return result{}, err
			}
			job.APIVersion, job.Kind = "batch/v1", "Job"
			r.Children = append(r.Children, job)
		}
	}
	return r, nil
}

// rayClusterPods: the head pod and each worker group's pods at its desired replicas.
func rayClusterPods(ctx context.Context, s *runtime.Scheme, rc *rayv1.RayCluster) (result, error) {
	rec := &ray.RayClusterReconciler{Scheme: s}
	r := result{Children: []runtime.Object{}, Notes: []string{
		"KubeRay's Services, autoscaler RBAC and batch-scheduler metadata are not modelled",
	}}
	// The controller reads a fresh RayCluster for every pod it builds, and pod building
	// changes the template it is given in place: build each pod from a copy.
	head := buildHeadPod(rec, ctx, *rc.DeepCopy())
	head.APIVersion, head.Kind = "v1", "Pod"
	r.Children = append(r.Children, &head)
	for i := range rc.Spec.WorkerGroupSpecs {
		worker := rc.Spec.WorkerGroupSpecs[i].DeepCopy()
		// As the controller's reconcilePods does for clusters whose CRD has no numOfHosts.
		if worker.NumOfHosts <= 0 {
			worker.NumOfHosts = 1
		}
		if worker.NumOfHosts > 1 {
			r.Notes = append(r.Notes, fmt.Sprintf("worker group %s: %d hosts per replica built without multi-host indexing labels", worker.GroupName, worker.NumOfHosts))
		}
		for n := 0; n < int(rayutils.GetWorkerGroupDesiredReplicas(*worker)); n++ {
			pod := buildWorkerPod(rec, ctx, *rc.DeepCopy(), *worker.DeepCopy(), "", 0, 0)
			pod.APIVersion, pod.Kind = "v1", "Pod"
			r.Children = append(r.Children, &pod)
		}
	}
	return r, nil
}

// rayJobChildren: the RayCluster the RayJob controller creates (when it names no existing
// cluster) and that cluster's pods.
func rayJobChildren(ctx context.Context, s *runtime.Scheme, rj *rayv1.RayJob) (result, error) {
	if rj.Spec.RayClusterSpec == nil {
		return result{Children: []runtime.Object{}, Notes: []string{"no rayClusterSpec: the RayJob runs on an existing cluster"}}, nil
	}
	rc, err := constructRayClusterForRayJob(&ray.RayJobReconciler{Scheme: s}, rj, rayutils.GenerateRayClusterName(rj.Name))
	if err != nil {
		return result{}, err
	}
	rc.APIVersion, rc.Kind = rayv1.GroupVersion.String(), "RayCluster"
	pods, err := rayClusterPods(ctx, s, rc)
	if err != nil {
		return result{}, err
	}
	notes := append([]string{"the submitter Job (K8sJobMode) is not modelled"}, pods.Notes...)
	return result{Children: append([]runtime.Object{rc}, pods.Children...), Notes: notes}, nil
}
