package edit

import "errors"

// Kubernetes writes each field of one Kubernetes object into the manifests under req.Root/req.Dir.
func Kubernetes(req Request) (Result, error) {
	return Result{}, errors.New("edit: Kubernetes manifests: not implemented yet")
}
