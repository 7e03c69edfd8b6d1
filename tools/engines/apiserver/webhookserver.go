package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	webhookutil "k8s.io/apiserver/pkg/util/webhook"
	certutil "k8s.io/client-go/util/cert"
)

// webhookServers serves the webhook Services whose code runs in this engine (Kueue's) on
// loopback over TLS; the API server's webhook dispatchers reach them through the Service
// resolver below, exactly as they would reach the Service in a cluster.
type webhookServers struct {
	servers  map[types.NamespacedName]*httptest.Server
	caBundle []byte
}

func newWebhookServers(handlers map[types.NamespacedName]http.Handler) (*webhookServers, error) {
	w := &webhookServers{servers: map[types.NamespacedName]*httptest.Server{}}
	if len(handlers) == 0 {
		return w, nil
	}
	var hosts []string
	for svc := range handlers {
		hosts = append(hosts, serviceHost(svc))
	}
	sort.Strings(hosts)
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey(hosts[0], nil, hosts)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	w.caBundle = certPEM
	for svc, handler := range handlers {
		if os.Getenv("APISERVER_ENGINE_DEBUG") != "" {
			inner := handler
			handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintln(os.Stderr, "webhook request", r.URL.Path)
				inner.ServeHTTP(w, r)
			})
		}
		srv := httptest.NewUnstartedServer(handler)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		w.servers[svc] = srv
	}
	return w, nil
}

func serviceHost(svc types.NamespacedName) string {
	return fmt.Sprintf("%s.%s.svc", svc.Name, svc.Namespace)
}

// ResolveEndpoint implements the API server's webhook ServiceResolver.
func (w *webhookServers) ResolveEndpoint(namespace, name string, _ int32) (*url.URL, error) {
	srv, ok := w.servers[types.NamespacedName{Namespace: namespace, Name: name}]
	if !ok {
		return nil, fmt.Errorf("service %s/%s is not served by this engine", namespace, name)
	}
	return url.Parse(srv.URL)
}

func (w *webhookServers) authWrapper(r webhookutil.AuthenticationInfoResolver) webhookutil.AuthenticationInfoResolver {
	return r
}

func (w *webhookServers) close() {
	for _, srv := range w.servers {
		srv.Close()
	}
}

func (w *webhookServers) serves(ref *admissionregistrationv1.ServiceReference) bool {
	if ref == nil {
		return false
	}
	_, ok := w.servers[types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}]
	return ok
}

// adopt keeps the webhooks of the given configurations that call a served Service (with this
// engine's CA bundle) and drops the others, naming them in notes: their code does not run here.
func (w *webhookServers) adopt(state []runtime.Object) ([]runtime.Object, []string, []string) {
	var kept []runtime.Object
	var names, notes []string
	drop := func(config, hook string, cc admissionregistrationv1.WebhookClientConfig) {
		target := "a URL"
		if cc.Service != nil {
			target = "service " + cc.Service.Namespace + "/" + cc.Service.Name
		}
		notes = append(notes, fmt.Sprintf("webhook %s/%s not modelled: it calls %s", config, hook, target))
	}
	for _, obj := range state {
		switch c := obj.(type) {
		case *admissionregistrationv1.MutatingWebhookConfiguration:
			var hooks []admissionregistrationv1.MutatingWebhook
			for _, h := range c.Webhooks {
				if !w.serves(h.ClientConfig.Service) {
					drop(c.Name, h.Name, h.ClientConfig)
					continue
				}
				h.ClientConfig.CABundle = w.caBundle
				hooks = append(hooks, h)
				names = append(names, "mutating "+c.Name+"/"+h.Name)
			}
			c.Webhooks = hooks
		case *admissionregistrationv1.ValidatingWebhookConfiguration:
			var hooks []admissionregistrationv1.ValidatingWebhook
			for _, h := range c.Webhooks {
				if !w.serves(h.ClientConfig.Service) {
					drop(c.Name, h.Name, h.ClientConfig)
					continue
				}
				h.ClientConfig.CABundle = w.caBundle
				hooks = append(hooks, h)
				names = append(names, "validating "+c.Name+"/"+h.Name)
			}
			c.Webhooks = hooks
		}
		kept = append(kept, obj)
	}
	sort.Strings(names)
	return kept, names, notes
}
