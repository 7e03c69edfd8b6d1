package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
	_ "unsafe" // go:linkname

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	kfake "k8s.io/client-go/kubernetes/fake"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/kubernetes/pkg/controller/cronjob"
	"k8s.io/kubernetes/pkg/controller/deployment"
	"k8s.io/kubernetes/pkg/controller/job"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	"k8s.io/kubernetes/pkg/controller/statefulset"
	"k8s.io/kubernetes/pkg/util/parsers"
)

// The controllers' sync entry points (what their workers call for a queue key) and the cronjob
// controller's Job constructor are unexported; the engine links to them by name.

//go:linkname syncJob k8s.io/kubernetes/pkg/controller/job.(*Controller).syncJob
func syncJob(jm *job.Controller, ctx context.Context, key string) error

//go:linkname syncDeployment k8s.io/kubernetes/pkg/controller/deployment.(*DeploymentController).syncDeployment
func syncDeployment(dc *deployment.DeploymentController, ctx context.Context, key string) error

//go:linkname syncReplicaSet k8s.io/kubernetes/pkg/controller/replicaset.(*ReplicaSetController).syncReplicaSet
func syncReplicaSet(rsc *replicaset.ReplicaSetController, ctx context.Context, key string) error

//go:linkname syncStatefulSet k8s.io/kubernetes/pkg/controller/statefulset.(*StatefulSetController).sync
func syncStatefulSet(ssc *statefulset.StatefulSetController, ctx context.Context, key string) error

//go:linkname getJobFromTemplate2 k8s.io/kubernetes/pkg/controller/cronjob.getJobFromTemplate2
func getJobFromTemplate2(cj *batchv1.CronJob, scheduledTime time.Time) (*batchv1.Job, error)

//go:linkname formatSchedule k8s.io/kubernetes/pkg/controller/cronjob.formatSchedule
func formatSchedule(cj *batchv1.CronJob, recorder record.EventRecorder) string

var _ = cronjob.NewControllerV2 // the package linked above

// controllerUser is who kube-controller-manager's controllers act as (each controller has its
// own service account under --use-service-account-credentials, as on Amazon EKS).
func controllerUser(name string) userInfo {
	return userInfo{
		Username: "system:serviceaccount:kube-system:" + name,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"},
	}
}

// controllerRun is the API server as one controller sees it: a fake clientset whose creates go
// through the engine's admission (the controller gets back the admitted object), and informers
// filled from what the clientset stores.
type controllerRun struct {
	e       *engine
	ctx     context.Context
	client  *kfake.Clientset
	factory informers.SharedInformerFactory
	user    userInfo
	created []*result
}

func (e *engine) newRun(ctx context.Context, controller string, objs ...runtime.Object) *controllerRun {
	c := &controllerRun{e: e, ctx: ctx, client: kfake.NewSimpleClientset(), user: controllerUser(controller)}
	for _, obj := range objs {
		_ = c.client.Tracker().Add(obj.DeepCopyObject())
	}
	c.client.PrependReactor("create", "*", c.react)
	c.factory = informers.NewSharedInformerFactory(c.client, 0)
	return c
}

func (c *controllerRun) react(action k8stesting.Action) (bool, runtime.Object, error) {
	create, ok := action.(k8stesting.CreateAction)
	if !ok || action.GetSubresource() != "" {
		return false, nil, nil
	}
	obj := create.GetObject().DeepCopyObject()
	gvks, _, err := clientgoscheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return true, nil, err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	// The request's namespace is the URL's, whatever the body says (client-go sends the
	// controller's pods without one).
	if accessor, err := meta.Accessor(obj); err == nil && action.GetNamespace() != "" {
		accessor.SetNamespace(action.GetNamespace())
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return true, nil, err
	}
	r := c.e.create(c.ctx, raw, c.user)
	c.created = append(c.created, r)
	if !r.Created {
		return true, nil, apierrors.NewBadRequest(fmt.Sprint(r.Errors))
	}
	stored := r.obj.DeepCopyObject()
	if err := c.client.Tracker().Create(action.GetResource(), stored, action.GetNamespace()); err != nil {
		return true, nil, err
	}
	return true, stored.DeepCopyObject(), nil
}

// fill replaces what the informers hold with what the clientset stores.
func (c *controllerRun) fill() error {
	sources := []struct {
		informer cache.SharedIndexInformer
		gvr      schema.GroupVersionResource
		gvk      schema.GroupVersionKind
	}{
		{c.factory.Core().V1().Pods().Informer(), corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod")},
		{c.factory.Core().V1().PersistentVolumeClaims().Informer(), corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"), corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim")},
		{c.factory.Batch().V1().Jobs().Informer(), batchv1.SchemeGroupVersion.WithResource("jobs"), batchv1.SchemeGroupVersion.WithKind("Job")},
		{c.factory.Apps().V1().Deployments().Informer(), appsv1.SchemeGroupVersion.WithResource("deployments"), appsv1.SchemeGroupVersion.WithKind("Deployment")},
		{c.factory.Apps().V1().ReplicaSets().Informer(), appsv1.SchemeGroupVersion.WithResource("replicasets"), appsv1.SchemeGroupVersion.WithKind("ReplicaSet")},
		{c.factory.Apps().V1().StatefulSets().Informer(), appsv1.SchemeGroupVersion.WithResource("statefulsets"), appsv1.SchemeGroupVersion.WithKind("StatefulSet")},
		{c.factory.Apps().V1().ControllerRevisions().Informer(), appsv1.SchemeGroupVersion.WithResource("controllerrevisions"), appsv1.SchemeGroupVersion.WithKind("ControllerRevision")},
	}
	for _, s := range sources {
		list, err := c.client.Tracker().List(s.gvr, s.gvk, "")
		if err != nil {
			return err
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		var objs []any
		for _, item := range items {
			objs = append(objs, item)
		}
		if err := s.informer.GetIndexer().Replace(objs, ""); err != nil {
			return err
		}
	}
	return nil
}

// addChildren runs the controller of the admitted object, if the engine models one, and adds
// what it creates (recursively) as children.
func (e *engine) addChildren(ctx context.Context, r *result) {
	var created []*result
	var err error
	switch obj := r.obj.(type) {
	case *batchv1.CronJob:
		created, err = runs(e.cronJobChildren(ctx, obj, r))
	case *batchv1.Job:
		created, err = runs(e.jobChildren(ctx, obj, r))
	case *appsv1.Deployment:
		created, err = runs(e.deploymentChildren(ctx, obj))
	case *appsv1.ReplicaSet:
		created, err = runs(e.replicaSetChildren(ctx, obj))
	case *appsv1.StatefulSet:
		created, err = runs(e.statefulSetChildren(ctx, obj))
	default:
		if note, ok := unmodelledControllers[r.gk.String()]; ok {
			r.Notes = append(r.Notes, note)
		}
	}
	if err != nil {
		r.Errors = append(r.Errors, "controller: "+err.Error())
	}
	sort.SliceStable(created, func(i, j int) bool { return childKey(created[i]) < childKey(created[j]) })
	for _, child := range created {
		if child.Created {
			e.addChildren(ctx, child)
		}
		r.Children = append(r.Children, child)
	}
}

func runs(run *controllerRun, err error) ([]*result, error) {
	if run == nil {
		return nil, err
	}
	return run.created, err
}

func childKey(r *result) string {
	if r.Admitted == nil {
		return "~"
	}
	md, _ := r.Admitted["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return fmt.Sprintf("%s/%s", r.Admitted["kind"], name)
}

func key(obj metav1.Object) string { return obj.GetNamespace() + "/" + obj.GetName() }

// cronJobChildren creates the Job the cronjob controller creates at the first schedule time
// after the CronJob was created (getJobFromTemplate2 with that time, as syncCronJob does).
func (e *engine) cronJobChildren(ctx context.Context, cj *batchv1.CronJob, r *result) (*controllerRun, error) {
	sched, err := parsers.ParseCronScheduleWithPanicRecovery(formatSchedule(cj, nil))
	if err != nil {
		return nil, err
	}
	scheduled := sched.Next(cj.CreationTimestamp.Time)
	r.Notes = append(r.Notes, "child Job scheduled at "+scheduled.UTC().Format(time.RFC3339))
	jobReq, err := getJobFromTemplate2(cj, scheduled)
	if err != nil {
		return nil, err
	}
	run := e.newRun(ctx, "cronjob-controller", cj)
	_, err = run.client.BatchV1().Jobs(cj.Namespace).Create(ctx, jobReq, metav1.CreateOptions{})
	if err != nil && len(run.created) == 0 {
		return nil, err
	}
	return run, nil
}

func (e *engine) deploymentChildren(ctx context.Context, d *appsv1.Deployment) (*controllerRun, error) {
	run := e.newRun(ctx, "deployment-controller", d)
	f := run.factory
	dc, err := deployment.NewDeploymentController(ctx, f.Apps().V1().Deployments(), f.Apps().V1().ReplicaSets(), f.Core().V1().Pods(), run.client)
	if err != nil {
		return nil, err
	}
	if err := run.fill(); err != nil {
		return nil, err
	}
	return run, syncDeployment(dc, ctx, key(d))
}

func (e *engine) replicaSetChildren(ctx context.Context, rs *appsv1.ReplicaSet) (*controllerRun, error) {
	run := e.newRun(ctx, "replicaset-controller", rs)
	f := run.factory
	rsc := replicaset.NewReplicaSetController(ctx, f.Apps().V1().ReplicaSets(), f.Core().V1().Pods(), run.client, replicaset.BurstReplicas)
	if err := run.fill(); err != nil {
		return nil, err
	}
	return run, syncReplicaSet(rsc, ctx, key(rs))
}
