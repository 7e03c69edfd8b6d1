package main

// A stand-in for controller-runtime's Manager: Kueue's own setup code (jobframework.SetupControllers)
// registers its job reconcilers and admission webhooks on it exactly as on the real manager; we keep
// the reconcilers and webhook handlers and drive them ourselves instead of starting informers.

import (
	"context"
	"net/http"
	"reflect"
	"sort"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/record"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"
)

type controllerEntry struct {
	name string
	do   reconcile.Reconciler
}

type fakeManager struct {
	manager.Manager // nil: any method Kueue's setup needs beyond these panics loudly
	scheme          *runtime.Scheme
	client          client.Client
	indexer         client.FieldIndexer
	mapper          meta.RESTMapper
	recorder        events.EventRecorder
	server          *recordingServer
	registry        conversion.Registry
	controllers     []controllerEntry
	cache           *inertCache
}

func newFakeManager(s *runtime.Scheme, c client.Client, idx client.FieldIndexer, rec events.EventRecorder) *fakeManager {
	return &fakeManager{
		scheme: s, client: c, indexer: idx, recorder: rec,
		mapper:   restMapperFor(s),
		server:   &recordingServer{Server: webhook.NewServer(webhook.Options{}), hooks: map[string]*admission.Webhook{}},
		registry: conversion.NewRegistry(),
		cache:    &inertCache{},
	}
}

func restMapperFor(s *runtime.Scheme) meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for gvk := range s.AllKnownTypes() {
		m.Add(gvk, meta.RESTScopeNamespace)
	}
	return m
}

func (m *fakeManager) GetScheme() *runtime.Scheme                { return m.scheme }
func (m *fakeManager) GetClient() client.Client                  { return m.client }
func (m *fakeManager) GetAPIReader() client.Reader               { return m.client }
func (m *fakeManager) GetFieldIndexer() client.FieldIndexer      { return m.indexer }
func (m *fakeManager) GetRESTMapper() meta.RESTMapper            { return m.mapper }
func (m *fakeManager) GetConfig() *rest.Config                   { return &rest.Config{} }
func (m *fakeManager) GetWebhookServer() webhook.Server          { return m.server }
func (m *fakeManager) GetConverterRegistry() conversion.Registry { return m.registry }
func (m *fakeManager) GetLogger() logr.Logger                    { return logr.Discard() }
func (m *fakeManager) GetControllerOptions() config.Controller {
	return config.Controller{SkipNameValidation: ptrTrue()}
}
func (m *fakeManager) GetEventRecorder(string) events.EventRecorder { return m.recorder }
func (m *fakeManager) GetEventRecorderFor(string) record.EventRecorder {
	return record.NewFakeRecorder(1000)
}
func (m *fakeManager) GetCache() crcache.Cache     { return m.cache }
func (m *fakeManager) GetHTTPClient() *http.Client { return http.DefaultClient }

func ptrTrue() *bool { t := true; return &t }

// Add keeps the reconciler of every controller Kueue's setup builds (controller-runtime's controller
// carries it in its exported field Do) and never starts anything.
func (m *fakeManager) Add(r manager.Runnable) error {
	v := reflect.ValueOf(r)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	do, name := v.FieldByName("Do"), v.FieldByName("Name")
	if !do.IsValid() || !name.IsValid() {
		return nil
	}
	if rec, ok := do.Interface().(reconcile.Reconciler); ok {
		m.controllers = append(m.controllers, controllerEntry{name: name.String(), do: rec})
	}
	return nil
}

func (m *fakeManager) controllerNames() []string {
	out := []string{}
	for _, c := range m.controllers {
		out = append(out, c.name)
	}
	sort.Strings(out)
	return out
}

type recordingServer struct {
	webhook.Server
	hooks map[string]*admission.Webhook
}

func (s *recordingServer) Register(path string, hook http.Handler) {
	if wh, ok := hook.(*admission.Webhook); ok {
		s.hooks[path] = wh
	}
}

// inertCache is never started: the harness feeds the reconcilers itself.
type inertCache struct{ crcache.Cache }

var _ = context.Background
