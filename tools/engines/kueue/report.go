package main

import (
	"encoding/json"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kueue "sigs.k8s.io/kueue/apis/kueue/v1beta2"
	"sigs.k8s.io/kueue/pkg/resources"
	"sigs.k8s.io/kueue/pkg/workload"
)

type podSetReport struct {
	Name          string            `json:"name"`
	Count         int32             `json:"count"`
	Requests      map[string]string `json:"requests"`
	Flavors       map[string]string `json:"flavors,omitempty"`
	ResourceUsage map[string]string `json:"resourceUsage,omitempty"`
	// Template: the pod template the job's integration built for the pod set (what its pods
	// will be, before admission's node selectors and tolerations).
	Template *corev1.PodTemplateSpec `json:"template,omitempty"`
}

type condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type workloadReport struct {
	Namespace     string         `json:"namespace"`
	Name          string         `json:"name"`
	Owner         string         `json:"owner"`
	Queue         string         `json:"queue"`
	PriorityClass string         `json:"priorityClass,omitempty"`
	Priority      *int32         `json:"priority,omitempty"`
	Status        string         `json:"status"`
	ClusterQueue  string         `json:"clusterQueue,omitempty"`
	PodSets       []podSetReport `json:"podSets"`
	Conditions    []condition    `json:"conditions"`
}

type resourceUsage struct {
	Total    string `json:"total"`
	Borrowed string `json:"borrowed"`
}

type clusterQueueReport struct {
	Name               string                              `json:"name"`
	Active             bool                                `json:"active"`
	Usage              map[string]map[string]resourceUsage `json:"usage"`
	ReservingWorkloads int                                 `json:"reservingWorkloads"`
	PendingWorkloads   int                                 `json:"pendingWorkloads"`
	WeightedShare      float64                             `json:"weightedShare"`
}

type eventReport struct {
	Object  string `json:"object"`
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type stepReport struct {
	Name          string               `json:"name"`
	Rejected      []rejection          `json:"rejected"`
	Workloads     []workloadReport     `json:"workloads"`
	ClusterQueues []clusterQueueReport `json:"clusterQueues"`
	Objects       []json.RawMessage    `json:"objects"`
	Created       []json.RawMessage    `json:"created"`
	Events        []eventReport        `json:"events"`
}

func (e *env) workloadReports() ([]workloadReport, error) {
	var list kueue.WorkloadList
	if err := e.cl.List(e.ctx, &list); err != nil {
		return nil, err
	}
	out := []workloadReport{}
	for i := range list.Items {
		wl := &list.Items[i]
		r := workloadReport{Namespace: wl.Namespace, Name: wl.Name, Queue: string(wl.Spec.QueueName),
			Priority: wl.Spec.Priority, Status: workload.Status(wl), Conditions: []condition{}}
		if wl.Spec.PriorityClassRef != nil {
			r.PriorityClass = wl.Spec.PriorityClassRef.Name
		}
		if o := metav1.GetControllerOf(wl); o != nil {
			r.Owner = o.Kind + "/" + o.Name
		}
		for _, c := range wl.Status.Conditions {
			r.Conditions = append(r.Conditions, condition{c.Type, string(c.Status), c.Reason, c.Message})
		}
		r.PodSets = e.podSets(wl)
		if wl.Status.Admission != nil {
			r.ClusterQueue = string(wl.Status.Admission.ClusterQueue)
		}
		out = append(out, r)
	}
	return out, nil
}

// podSets: what Kueue counts for each pod set (after LimitRange defaults, limits as requests,
// resource transformations and excluded prefixes), and where it was admitted.
func (e *env) podSets(wl *kueue.Workload) []podSetReport {
	adjusted := wl.DeepCopy()
	workload.AdjustResources(e.ctx, e.cl, adjusted)
	info := workload.NewInfo(adjusted, e.infoOptions()...)
	out := []podSetReport{}
	templates := map[string]*corev1.PodTemplateSpec{}
	for i := range wl.Spec.PodSets {
		templates[string(wl.Spec.PodSets[i].Name)] = wl.Spec.PodSets[i].Template.DeepCopy()
	}
	for _, ps := range info.TotalRequests {
		r := podSetReport{Name: string(ps.Name), Count: ps.Count, Requests: map[string]string{},
			Template: templates[string(ps.Name)]}
		for res, q := range ps.Requests.ToResourceList(resources.NewResourceFormatter()) {
			r.Requests[string(res)] = q.String()
		}
		out = append(out, r)
	}
	if wl.Status.Admission != nil {
		for _, a := range wl.Status.Admission.PodSetAssignments {
			for i := range out {
				if out[i].Name != string(a.Name) {
					continue
				}
				out[i].Flavors, out[i].ResourceUsage = map[string]string{}, map[string]string{}
				for res, f := range a.Flavors {
					out[i].Flavors[string(res)] = string(f)
				}
				for res, q := range a.ResourceUsage {
					out[i].ResourceUsage[string(res)] = q.String()
				}
			}
		}
	}
	return out
}

func (e *env) infoOptions() []workload.InfoOption {
	opts := []workload.InfoOption{}
	if r := e.cfg.Resources; r != nil {
		opts = append(opts, workload.WithExcludedResourcePrefixes(r.ExcludeResourcePrefixes),
			workload.WithResourceTransformations(r.Transformations))
	}
	return opts
}

func (e *env) clusterQueueReports() ([]clusterQueueReport, error) {
	var list kueue.ClusterQueueList
	if err := e.cl.List(e.ctx, &list); err != nil {
		return nil, err
	}
	out := []clusterQueueReport{}
	for i := range list.Items {
		cq := &list.Items[i]
		r := clusterQueueReport{Name: cq.Name, Active: e.cache.ClusterQueueActive(kueue.ClusterQueueReference(cq.Name)),
			Usage: map[string]map[string]resourceUsage{}}
		if stats, err := e.cache.Usage(cq); err == nil {
			r.ReservingWorkloads, r.WeightedShare = stats.ReservingWorkloads, stats.WeightedShare
			for _, f := range stats.ReservedResources {
				m := map[string]resourceUsage{}
				for _, res := range f.Resources {
					m[string(res.Name)] = resourceUsage{res.Total.String(), res.Borrowed.String()}
				}
				r.Usage[string(f.Name)] = m
			}
		}
		if n, err := e.queues.Pending(cq); err == nil {
			r.PendingWorkloads = n
		}
		out = append(out, r)
	}
	return out, nil
}

// objects: every job-like object and pod as it stands (suspended or not, node selectors and
// tolerations Kueue injected, scheduling gates).
func (e *env) objects() ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	for _, list := range e.watchedLists()[1:] {
		if err := e.cl.List(e.ctx, list); err != nil {
			return nil, err
		}
		items, err := metaItems(list)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			gvk, _ := e.cl.GroupVersionKindFor(o)
			o.GetObjectKind().SetGroupVersionKind(gvk)
			o.SetManagedFields(nil)
			raw, err := json.Marshal(o)
			if err != nil {
				return nil, err
			}
			out = append(out, raw)
		}
	}
	return out, nil
}

func (e *env) newEvents(from int) ([]eventReport, int) {
	recorded := e.recorder.RecordedEvents
	out := []eventReport{}
	for _, ev := range recorded[from:] {
		out = append(out, eventReport{ev.Key.String(), ev.EventType, ev.Reason, ev.Message})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out, len(recorded)
}

var _ client.Object = &kueue.Workload{}
