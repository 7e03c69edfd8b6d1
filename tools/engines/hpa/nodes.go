package main

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Nodes and their loss. The kubelet model binds a pod to a node of its own and registers that
// Node (Ready). A node loss deletes the Node object, as the cloud node lifecycle controller (or
// Karpenter) does once the instance is gone. What follows is the pod garbage collector's
// (pkg/controller/podgc, v1.36.0): its gcOrphaned, every 20 s, takes a pod bound to a node that
// no longer exists (after a 40 s quarantine and a GET that returns NotFound) and, in
// markFailedAndDeletePodWithCondition, patches its status to phase Failed with the condition
// DisruptionTarget=True (reason DeletionByPodGC, "PodGC: node no longer exists"), then deletes
// it with DeleteOptions gracePeriodSeconds 0. The engine makes that same status change and
// sends that same deletion through the API server model (onDeletePod), at the first step after
// the Node is gone; in a cluster it comes 40 to 60 s later. The controller itself is not linked:
// package podgc imports the kubelet's eviction package, and with it cadvisor and the container
// runtimes, for a helper.
//
// Taint-based eviction (pkg/controller/tainteviction) is the other path: a Node that still
// exists but is NotReady/Unreachable gets its pods deleted gracefully after their toleration
// (300 s by default); with no kubelet to finish it, such a pod stays Terminating until its
// Node object is deleted, and then pod GC force-deletes it as above. Not modelled.

func nodeName(pod *corev1.Pod) string {
	return "node-" + string(pod.UID)
}

// register is the kubelet of a new node registering its Node object, Ready.
func (c *cluster) register(name string) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: c.at()},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: c.at()},
		}},
	}
	return c.client.Tracker().Add(node)
}

func (c *cluster) nodeExists(name string) bool {
	if name == "" {
		return false
	}
	_, err := c.client.Tracker().Get(nodesGVR, "", name)
	return err == nil
}

// loseNode deletes the Node object of the node the pod runs on.
func (c *cluster) loseNode(ns, pod string) error {
	obj, err := c.client.Tracker().Get(podsGVR, ns, pod)
	if err != nil {
		return err
	}
	name := obj.(*corev1.Pod).Spec.NodeName
	c.record(event{Kind: "nodeLost", Object: pod, Node: name})
	if name == "" {
		return nil
	}
	return c.client.Tracker().Delete(nodesGVR, "", name)
}

// disruption: the reason of a pod's DisruptionTarget condition (what the controller that
// deletes it for a disruption sets first), if any.
func disruption(pod *corev1.Pod) string {
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.DisruptionTarget && cond.Status == corev1.ConditionTrue {
			return cond.Reason
		}
	}
	return ""
}

// gcOrphaned is pod GC's treatment of the pods bound to a node that no longer exists.
func (c *cluster) gcOrphaned() error {
	items, err := c.list(podsGVR, "Pod")
	if err != nil {
		return err
	}
	for _, item := range items {
		pod := item.(*corev1.Pod).DeepCopy()
		if pod.Spec.NodeName == "" || c.nodeExists(pod.Spec.NodeName) {
			continue
		}
		if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			pod.Status.Phase = corev1.PodFailed
			pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
				Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, LastTransitionTime: c.at(),
				Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists",
			})
			if err := c.client.Tracker().Update(podsGVR, pod, pod.Namespace); err != nil {
				return err
			}
		}
		err := c.client.CoreV1().Pods(pod.Namespace).Delete(c.ctx, pod.Name, *metav1.NewDeleteOptions(0))
		if err != nil {
			return err
		}
	}
	return nil
}
