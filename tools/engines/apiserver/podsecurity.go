package main

import (
	corev1 "k8s.io/api/core/v1"
	admissionapi "k8s.io/pod-security-admission/admission/api"
	"k8s.io/pod-security-admission/admission/api/load"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// podSecurity is Pod Security Admission's verdict on a pod in each mode of its namespace: the
// level and version from the namespace's pod-security.kubernetes.io/* labels (over the API
// server's defaults: privileged, latest), and the checks the pod fails at that level.
type podSecurity struct {
	Enforce modeVerdict `json:"enforce"`
	Audit   modeVerdict `json:"audit"`
	Warn    modeVerdict `json:"warn"`
	Errors  []string    `json:"errors"`
}

type modeVerdict struct {
	Level     string      `json:"level"`
	Version   string      `json:"version"`
	Allowed   bool        `json:"allowed"`
	Forbidden []forbidden `json:"forbidden"`
}

type forbidden struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// defaultPolicy is the PodSecurity plugin's default configuration (no admission config file).
func defaultPolicy() (psapi.Policy, error) {
	cfg, err := load.LoadFromData(nil)
	if err != nil {
		return psapi.Policy{}, err
	}
	return admissionapi.ToPolicy(cfg.Defaults)
}

func (e *engine) podSecurity(pod *corev1.Pod) *podSecurity {
	verdict := &podSecurity{Errors: []string{}}
	defaults, err := defaultPolicy()
	if err != nil {
		verdict.Errors = append(verdict.Errors, err.Error())
		return verdict
	}
	var labels map[string]string
	if ns := e.namespaces[pod.Namespace]; ns != nil {
		labels = ns.Labels
	}
	p, errs := psapi.PolicyToEvaluate(labels, defaults)
	for _, err := range errs {
		verdict.Errors = append(verdict.Errors, err.Error())
	}
	verdict.Enforce = e.evaluate(p.Enforce, pod)
	verdict.Audit = e.evaluate(p.Audit, pod)
	verdict.Warn = e.evaluate(p.Warn, pod)
	return verdict
}

func (e *engine) evaluate(lv psapi.LevelVersion, pod *corev1.Pod) modeVerdict {
	agg := policy.AggregateCheckResults(e.psa.EvaluatePod(lv, &pod.ObjectMeta, &pod.Spec))
	v := modeVerdict{Level: string(lv.Level), Version: lv.Version.String(), Allowed: agg.Allowed,
		Forbidden: []forbidden{}}
	for i, reason := range agg.ForbiddenReasons {
		v.Forbidden = append(v.Forbidden, forbidden{Reason: reason, Detail: agg.ForbiddenDetails[i]})
	}
	return v
}
