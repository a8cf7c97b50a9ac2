package main

import (
	"context"
	"log/slog"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/reporter"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
)

// newNotifier loads the routing policy at file and builds its receivers, reading {name, key}
// secrets from the reporter's own namespace. A policy or receiver that cannot be built stops the
// reporter from starting: a reporter that would tell nobody must not look like one that tells
// everybody.
func newNotifier(ctx context.Context, file string, kc kubernetes.Interface, namespace string, store ledger.Store, counters notifier.Counters, deadline time.Duration, log *slog.Logger) (*reporter.PolicyFile, error) {
	return reporter.NewPolicyFile(ctx, file, reporter.KubeSecrets{Client: kc, Namespace: namespace},
		notifier.Options{Store: store, Counters: counters, Deadline: deadline,
			// Two tries fit in the deadline, whatever the receiver does.
			ReceiverTimeout: min(notifier.DefaultReceiverTimeout, deadline/2)},
		func(err error) { log.Warn("routing policy", "err", notify.ScrubError(err.Error())) })
}
