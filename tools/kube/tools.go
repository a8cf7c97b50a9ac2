//go:build tools

// Package tools records the programs this module builds, so `go mod tidy` keeps their
// dependencies in go.sum.
package tools

import (
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)
