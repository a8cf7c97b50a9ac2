package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// ClientConfig loads a REST config: from kubeconfigPath (with "~" expanded) and an optional
// context, or in-cluster when kubeconfigPath is empty and the process runs in a pod. It also
// returns the context's default namespace.
func ClientConfig(kubeconfigPath, contextName string) (*rest.Config, string, error) {
	if kubeconfigPath == "" {
		if os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
			return nil, "", fmt.Errorf("no kubeconfig_path given and not running in a cluster")
		}
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, "", fmt.Errorf("in-cluster config: %w", err)
		}
		ns := "default"
		if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil {
			ns = strings.TrimSpace(string(b))
		}
		return cfg, ns, nil
	}
	if strings.HasPrefix(kubeconfigPath, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, "", fmt.Errorf("kubeconfig %s: %w", kubeconfigPath, err)
		}
		kubeconfigPath = filepath.Join(home, kubeconfigPath[2:])
	}
	if _, err := os.Stat(kubeconfigPath); err != nil {
		return nil, "", fmt.Errorf("kubeconfig %s: %w", kubeconfigPath, err)
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfigPath},
		&clientcmd.ConfigOverrides{CurrentContext: contextName})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig %s: %w", kubeconfigPath, err)
	}
	ns, _, err := loader.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	return cfg, ns, nil
}

// DefaultRequestTimeout bounds each request a Cluster makes.
const DefaultRequestTimeout = 30 * time.Second

// Cluster reads live objects. It has no method that writes.
type Cluster struct {
	dyn              dynamic.Interface
	mapper           meta.RESTMapper
	DefaultNamespace string
}

// NewCluster builds a reader from a REST config.
func NewCluster(cfg *rest.Config, defaultNamespace string) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = "driftplane"
	}
	// The Cluster only reads, one object at a time: no request should take long, and a hung API
	// server must make drift unknown, not hang the plan.
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultRequestTimeout
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if defaultNamespace == "" {
		defaultNamespace = "default"
	}
	return &Cluster{
		dyn:              dyn,
		mapper:           restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
		DefaultNamespace: defaultNamespace,
	}, nil
}

// Target is where a desired object lives in the API.
type Target struct {
	GVR        schema.GroupVersionResource
	Namespaced bool
	Namespace  string
}

// Resolve maps a desired object to its resource, defaulting the namespace of namespaced
// objects. An unknown kind is an error: an object we cannot look up is unknown, not clean.
func (c *Cluster) Resolve(u *unstructured.Unstructured) (Target, error) {
	gvk := u.GroupVersionKind()
	mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return Target{}, fmt.Errorf("%s %q: the cluster does not serve %s: %w", gvk.Kind, u.GetName(), gvk.String(), err)
	}
	t := Target{GVR: mapping.Resource, Namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace}
	if t.Namespaced {
		t.Namespace = u.GetNamespace()
		if t.Namespace == "" {
			t.Namespace = c.DefaultNamespace
		}
	}
	return t, nil
}

// Get reads the live object, or nil when it does not exist.
func (c *Cluster) Get(ctx context.Context, t Target, name string) (*unstructured.Unstructured, error) {
	var ri dynamic.ResourceInterface = c.dyn.Resource(t.GVR)
	if t.Namespaced {
		ri = c.dyn.Resource(t.GVR).Namespace(t.Namespace)
	}
	live, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", t.GVR.String(), t.Namespace, name, err)
	}
	return live, nil
}
