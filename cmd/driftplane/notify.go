package main

import (
	"context"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
)

// newNotifyHook loads the routing policy and builds its receivers (secrets from the environment)
// into the hook scan calls after each unit's evaluation. A policy or receiver that cannot be
// built is a usage error before anything is scanned: a scan that would tell nobody must not
// look like one that told everybody.
func newNotifyHook(ctx context.Context, file string, store ledger.Store, deadline time.Duration) (func(context.Context, *drift.ManagedUnit, *pipeline.Result) []string, error) {
	p, err := route.Load(file, time.Now())
	if err != nil {
		return nil, err
	}
	n, err := notifier.FromPolicy(ctx, p, notifier.EnvSecrets{}, notifier.Options{Store: store, Deadline: deadline,
		// Two tries fit in the deadline, whatever the receiver does.
		ReceiverTimeout: min(notifier.DefaultReceiverTimeout, deadline/2)})
	if err != nil {
		return nil, err
	}
	return n.ScanHook(), nil
}
