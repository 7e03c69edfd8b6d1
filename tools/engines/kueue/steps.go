package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

type ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Replicas  *int32 `json:"replicas,omitempty"`
}

type step struct {
	Name   string            `json:"name"`
	Submit []json.RawMessage `json:"submit"`
	Scale  []ref             `json:"scale"`
	Finish []ref             `json:"finish"`
	Delete []ref             `json:"delete"`
}

type rejection struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Message   string `json:"message"`
}

func (e *env) decode(raw []byte) (client.Object, error) {
	obj, _, err := serializer.NewCodecFactory(e.scheme).UniversalDeserializer().Decode(raw, nil, nil)
	if err != nil {
		return nil, err
	}
	co, ok := obj.(client.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not an object", obj)
	}
	return co, nil
}

// admit sends obj through the mutating and validating admission webhooks Kueue registered for its kind,
// as the API server would on create; a denial comes back as the message the user would read.
func (e *env) admit(obj client.Object) (client.Object, string, error) {
	return e.review(admissionv1.Create, nil, obj)
}

// review is one admission request: on update, old is the stored object the webhooks compare with.
func (e *env) review(op admissionv1.Operation, old, obj client.Object) (client.Object, string, error) {
	gvk, err := e.cl.GroupVersionKindFor(obj)
	if err != nil {
		return nil, "", err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, "", err
	}
	var oldRaw []byte
	if old != nil {
		old.GetObjectKind().SetGroupVersionKind(gvk)
		if oldRaw, err = json.Marshal(old); err != nil {
			return nil, "", err
		}
	}
	suffix := fmt.Sprintf("%s-%s-%s", strings.ReplaceAll(gvk.Group, ".", "-"), gvk.Version, strings.ToLower(gvk.Kind))
	for _, kind := range []string{"mutate", "validate"} {
		hook := e.mgr.server.hooks["/"+kind+"-"+suffix]
		if hook == nil {
			continue
		}
		resp := hook.Handle(e.ctx, admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID:       "admission",
			Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
			Operation: op, Namespace: obj.GetNamespace(), Name: obj.GetName(),
			Object: runtime.RawExtension{Raw: raw}, OldObject: runtime.RawExtension{Raw: oldRaw},
		}})
		if !resp.Allowed {
			msg := "denied"
			if resp.Result != nil {
				msg = resp.Result.Message
			}
			return nil, msg, nil
		}
		if len(resp.Patches) > 0 {
			ops, err := json.Marshal(resp.Patches)
			if err != nil {
				return nil, "", err
			}
			patch, err := jsonpatch.DecodePatch(ops)
			if err != nil {
				return nil, "", err
			}
			if raw, err = patch.Apply(raw); err != nil {
				return nil, "", err
			}
		}
	}
	out, err := e.decode(raw)
	return out, "", err
}

// create admits and stores obj; a rejection is returned, not an error.
func (e *env) create(obj client.Object) (*rejection, error) {
	e.clock.Step(time.Second) // creation order is queue order (FIFO)
	admitted, denied, err := e.admit(obj)
	if err != nil {
		return nil, err
	}
	if denied != "" {
		return &rejection{obj.GetObjectKind().GroupVersionKind().Kind, obj.GetNamespace(), obj.GetName(), denied}, nil
	}
	if err := e.cl.Create(e.ctx, admitted); err != nil {
		return nil, err
	}
	e.recordCreated(admitted)
	return nil, e.startPods(admitted)
}

func (e *env) submit(raw json.RawMessage) (*rejection, error) {
	obj, err := e.decode(raw)
	if err != nil {
		return nil, err
	}
	return e.create(obj)
}

// startPods plays the built-in controllers Kueue relies on: a Deployment's ReplicaSet and the pods of
// a ReplicaSet or StatefulSet (each pod goes through Kueue's pod webhook like a real one).
func (e *env) startPods(obj client.Object) error {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: o.Name + "-rs", Namespace: o.Namespace,
			Labels: o.Spec.Template.Labels, OwnerReferences: []metav1.OwnerReference{owner(o, "Deployment")}},
			Spec: appsv1.ReplicaSetSpec{Replicas: o.Spec.Replicas, Selector: o.Spec.Selector, Template: o.Spec.Template}}
		if err := e.cl.Create(e.ctx, rs); err != nil {
			return err
		}
		return e.scalePods(rs, "ReplicaSet", rs.Spec.Template, ptr.Deref(o.Spec.Replicas, 1))
	case *appsv1.StatefulSet:
		return e.scalePods(o, "StatefulSet", o.Spec.Template, ptr.Deref(o.Spec.Replicas, 1))
	}
	return nil
}

func owner(o client.Object, kind string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: o.GetName(), UID: o.GetUID(),
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
}

func (e *env) podsOf(o client.Object) ([]corev1.Pod, error) {
	var pods corev1.PodList
	if err := e.cl.List(e.ctx, &pods, client.InNamespace(o.GetNamespace())); err != nil {
		return nil, err
	}
	out := []corev1.Pod{}
	for _, p := range pods.Items {
		if c := metav1.GetControllerOf(&p); c != nil && c.UID == o.GetUID() && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// scalePods creates pods <name>-<i> up to want, or deletes the highest-numbered ones down to it.
func (e *env) scalePods(parent client.Object, kind string, tmpl corev1.PodTemplateSpec, want int32) error {
	have, err := e.podsOf(parent)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, p := range have {
		names[p.Name] = true
	}
	for i := int32(0); int32(len(names)) < want; i++ {
		name := fmt.Sprintf("%s-%d", parent.GetName(), i)
		if names[name] {
			continue
		}
		pod := &corev1.Pod{ObjectMeta: *tmpl.ObjectMeta.DeepCopy(), Spec: *tmpl.Spec.DeepCopy()}
		pod.Name, pod.Namespace = name, parent.GetNamespace()
		pod.OwnerReferences = []metav1.OwnerReference{owner(parent, kind)}
		if kind == "StatefulSet" {
			if pod.Labels == nil {
				pod.Labels = map[string]string{}
			}
			pod.Labels["statefulset.kubernetes.io/pod-name"] = name
			pod.Labels["apps.kubernetes.io/pod-index"] = fmt.Sprint(i)
		}
		if rej, err := e.create(pod); err != nil || rej != nil {
			if err == nil {
				err = fmt.Errorf("pod %s rejected: %s", name, rej.Message)
			}
			return err
		}
		names[name] = true
	}
	for i := int32(len(names)) - 1; int32(len(names)) > want && i >= 0; i-- {
		name := fmt.Sprintf("%s-%d", parent.GetName(), i)
		if !names[name] {
			continue
		}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: parent.GetNamespace()}}
		if err := e.cl.Delete(e.ctx, pod); client.IgnoreNotFound(err) != nil {
			return err
		}
		delete(names, name)
	}
	return nil
}

// recordCreated keeps the object as Kueue's webhooks let it into the cluster (queue-name defaulted,
// suspended, pods gated): what every later admission controller in the chain sees at CREATE.
func (e *env) recordCreated(obj client.Object) {
	gvk, _ := e.cl.GroupVersionKindFor(obj)
	cp := obj.DeepCopyObject().(client.Object)
	cp.GetObjectKind().SetGroupVersionKind(gvk)
	cp.SetManagedFields(nil)
	cp.SetResourceVersion("")
	if raw, err := json.Marshal(cp); err == nil {
		e.created = append(e.created, raw)
	}
}
