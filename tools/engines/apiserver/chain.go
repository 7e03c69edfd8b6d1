package main

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	webhookinit "k8s.io/apiserver/pkg/admission/plugin/webhook/initializer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	genericserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/openapi"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	cpadmission "k8s.io/kubernetes/pkg/controlplane/apiserver/admission"
	"k8s.io/kubernetes/pkg/kubeapiserver/admission/exclusion"
	kubeoptions "k8s.io/kubernetes/pkg/kubeapiserver/options"
	quotainstall "k8s.io/kubernetes/pkg/quota/v1/install"
)

// notModelled are admission plugins kube-apiserver enables by default that this engine leaves
// out, and why. Every other default plugin runs, in kube-apiserver's order.
var notModelled = map[string]string{}

// enabledPlugins is kube-apiserver's default plugin list (AllOrderedPlugins minus the
// DefaultOffAdmissionPlugins), in its order, minus notModelled.
func enabledPlugins() []string {
	off := kubeoptions.DefaultOffAdmissionPlugins()
	var names []string
	for _, name := range kubeoptions.AllOrderedPlugins {
		if off.Has(name) {
			continue
		}
		if _, skip := notModelled[name]; skip {
			continue
		}
		names = append(names, name)
	}
	return names
}

// buildChain builds the admission chain as kube-apiserver's AdmissionOptions.ApplyTo does: the
// registered plugins, no admission configuration file (every plugin on its defaults, as on
// Amazon EKS), the generic and webhook plugin initializers. The webhook plugins resolve services
// to the engine's in-process webhook servers.
func buildChain(ctx context.Context, client kubernetes.Interface, factory informers.SharedInformerFactory,
	emulated *version.Version, servers *webhookServers) (admission.Interface, []string, error) {
	plugins := admission.NewPlugins()
	genericserver.RegisterAllAdmissionPlugins(plugins)
	kubeoptions.RegisterAllAdmissionPlugins(plugins)
	names := enabledPlugins()
	for _, name := range names {
		if !slices.Contains(plugins.Registered(), name) {
			return nil, nil, fmt.Errorf("admission plugin %s is not registered", name)
		}
	}
	config, err := admission.ReadAdmissionConfiguration(names, "", nil)
	if err != nil {
		return nil, nil, err
	}
	effective := compatibility.DefaultBuildEffectiveVersion()
	effective.SetEmulationVersion(emulated)
	mapper := testrestmapper.TestOnlyStaticRESTMapper(legacyscheme.Scheme)
	dynamic := fake.NewSimpleDynamicClient(legacyscheme.Scheme)
	var generic admission.PluginInitializer
	webhooks := webhookinit.NewPluginInitializer(servers.authWrapper, servers)
	generic = initializer.New(noOpenAPIClient{client}, dynamic, factory, authorizerfactory.NewAlwaysAllowAuthorizer(),
		utilfeature.DefaultFeatureGate, effective, ctx.Done(), mapper)
	// kube-apiserver's own initializer: the ResourceQuota plugin's evaluators (every API
	// resource enabled) and the resources admission never sees.
	quotaConfig, err := quotainstall.NewQuotaConfigurationForAdmission(factory, nil)
	if err != nil {
		return nil, nil, err
	}
	kube := cpadmission.NewPluginInitializer(quotaConfig, exclusion.Excluded())
	chain, err := plugins.NewFromPlugins(names, config, admission.PluginInitializers{
		initializer.NewAPIServerIDInitializer("substrate-engine"), generic, webhooks, kube,
	}, nameRefusals)
	if err != nil {
		return nil, nil, err
	}
	return chain, names, nil
}

// refusal names the admission plugin that refused a request (the API server's error says what,
// not always who).
type refusal struct{ plugin string }

type refusalKey struct{}

func withRefusal(ctx context.Context) (context.Context, *refusal) {
	r := &refusal{}
	return context.WithValue(ctx, refusalKey{}, r), r
}

// namedPlugin records, in the request's context, which plugin returned an error.
type namedPlugin struct {
	admission.Interface
	name string
}

func (p *namedPlugin) record(ctx context.Context, err error) error {
	if r, ok := ctx.Value(refusalKey{}).(*refusal); ok && err != nil && r.plugin == "" {
		r.plugin = p.name
	}
	return err
}

func (p *namedPlugin) Admit(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	if m, ok := p.Interface.(admission.MutationInterface); ok {
		return p.record(ctx, m.Admit(ctx, a, o))
	}
	return nil
}

func (p *namedPlugin) Validate(ctx context.Context, a admission.Attributes, o admission.ObjectInterfaces) error {
	if v, ok := p.Interface.(admission.ValidationInterface); ok {
		return p.record(ctx, v.Validate(ctx, a, o))
	}
	return nil
}

var nameRefusals = admission.DecoratorFunc(func(h admission.Interface, name string) admission.Interface {
	return &namedPlugin{Interface: h, name: name}
})

// noOpenAPIClient is the state clientset with a discovery client that serves no OpenAPI v3
// documents (the fake one panics). MutatingAdmissionPolicy asks for them when it starts; it would
// need them only to apply a policy's ApplyConfiguration patch, and no policies are given.
type noOpenAPIClient struct{ kubernetes.Interface }

func (c noOpenAPIClient) Discovery() discovery.DiscoveryInterface {
	return noOpenAPIDiscovery{c.Interface.Discovery()}
}

type noOpenAPIDiscovery struct{ discovery.DiscoveryInterface }

func (noOpenAPIDiscovery) OpenAPIV3() openapi.Client { return noOpenAPIPaths{} }

type noOpenAPIPaths struct{}

func (noOpenAPIPaths) Paths() (map[string]openapi.GroupVersion, error) {
	return map[string]openapi.GroupVersion{}, nil
}
