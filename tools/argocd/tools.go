//go:build tools

// Package tools records the program this module builds: these are the packages imported by
// github.com/argoproj/argo-cd/v3/cmd (a main package, which cannot be imported itself), so
// `go mod tidy` keeps everything `go build .../cmd` needs.
package tools

import (
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-applicationset-controller/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-commit-server/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-dex/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-k8s-auth/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-notification/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd-server/commands"
	_ "github.com/argoproj/argo-cd/v3/cmd/argocd/commands"
	_ "github.com/argoproj/argo-cd/v3/util/log"
	_ "github.com/spf13/cobra"
	_ "k8s.io/klog/v2"
)
