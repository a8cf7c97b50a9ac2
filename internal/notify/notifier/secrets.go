package notifier

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// SecretSource resolves a receiver's secret reference (urlFrom, secretRef) to its value. The
// value is used to build the receiver and never leaves it: an implementation must not log it or
// put it in an error. driftplane scan reads the environment (EnvSecrets); the Argo CD reporter
// reads Kubernetes Secrets in the policy's namespace.
type SecretSource interface {
	Secret(ctx context.Context, ref v1alpha1.SecretRef) ([]byte, error)
}

// EnvSecrets resolves env references from the process environment (Lookup, os.LookupEnv when
// nil). A reference to a Kubernetes Secret is an error naming the Secret: a command-line scan has
// no cluster to read it from, and sending without the credential would fail every delivery.
type EnvSecrets struct {
	Lookup func(string) (string, bool)
}

// Secret returns the environment variable ref names; unset or empty is an error naming the
// variable, never a value.
func (e EnvSecrets) Secret(_ context.Context, ref v1alpha1.SecretRef) ([]byte, error) {
	if ref.Env == "" {
		if ref.Name != "" {
			return nil, fmt.Errorf("the Kubernetes Secret %s (key %s) cannot be read here; reference an environment variable (env) instead", ref.Name, ref.Key)
		}
		return nil, errors.New("the secret reference names no environment variable")
	}
	lookup := e.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, ok := lookup(ref.Env)
	if !ok || v == "" {
		return nil, fmt.Errorf("environment variable %s is not set", ref.Env)
	}
	return []byte(v), nil
}
