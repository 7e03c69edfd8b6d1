package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	webhookutil "k8s.io/apiserver/pkg/util/webhook"
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
	certPEM, pair, err := servingCert(hosts)
	if err != nil {
		return nil, err
	}
	w.caBundle = certPEM
	for svc, handler := range handlers {
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

// servingCert is a self-signed ECDSA certificate for the Service host names; it is its own CA
// bundle. (An RSA pair, as client-go's helper makes, costs half a second to generate.)
func servingCert(hosts []string) ([]byte, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: hosts[0]},
		DNSNames:              hosts,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return certPEM, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
