package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/cloudtrail"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
)

// PlanFile observes an OpenTofu/Terraform stack from the JSON of a saved plan (`tofu show
// -json`) at a local path or in S3.
type PlanFile struct {
	Location string
	S3       blob.S3Options
	// Label names the input in the evidence record ("<Label> <location>").
	Label string
	// ProviderSchema, when set, is `tofu providers schema -json` output (local or s3://): the
	// attributes it says the providers compute are bookkeeping, never drift.
	ProviderSchema string
	// ProviderSchemaLabel names it in the evidence record ("<label> <location>").
	ProviderSchemaLabel string
	// Extra are further options of the plan reader (tofuplan.WithProviderVersions,
	// tofuplan.WithProviderConstraints).
	Extra []tofuplan.Option
	// ApplyLog, when set, is the machine-readable log of the unit's last apply (`tofu apply
	// -json`, local or s3://): the resources whose apply errored are FAILED_RECONCILIATION.
	// ApplyLogLabel names it in the evidence record.
	ApplyLog, ApplyLogLabel string
}

// UnitKind implements Source.
func (p PlanFile) UnitKind() string { return drift.UnitOpenTofuStack }

// Observe implements Source.
func (p PlanFile) Observe(ctx context.Context, env Env) (*Observed, error) {
	loc, err := blob.Open(p.Location, p.S3)
	if err != nil {
		return nil, fail(StagePlan, err)
	}
	opts, schemaInputs, err := providerSchemaFile(ctx, p.ProviderSchema, p.S3, p.ProviderSchemaLabel)
	if err != nil {
		return nil, err
	}
	logOpts, logInputs, err := applyLogFile(ctx, p.ApplyLog, p.S3, p.ApplyLogLabel)
	if err != nil {
		return nil, err
	}
	opts, schemaInputs = append(opts, logOpts...), append(schemaInputs, logInputs...)
	opts = append(append(append(opts, p.Extra...), unitPlanOptions(env)...), tofuplan.WithDigester(env.Digester))
	plan, err := tofuplan.ReadLocation(ctx, loc, opts...)
	if err != nil {
		return nil, fail(StagePlan, err)
	}
	return withInputs(schemaInputs)(planObserved(plan, p.Label+" "+plan.Path, env))
}

// PlanJSON observes a stack from plan JSON already in memory (a scan's `tofu show -json`).
type PlanJSON struct {
	Name string
	Data []byte
	// MaxBytes bounds the plan (tofuplan.DefaultMaxBytes when 0).
	MaxBytes int64
	// Label names the input in the evidence record.
	Label string
	// ProviderSchema, when set, is `tofu providers schema -json` output for the plan's stack,
	// named ProviderSchemaLabel in the evidence record (see PlanFile.ProviderSchema).
	ProviderSchema      []byte
	ProviderSchemaLabel string
	// Extra are further options of the plan reader (see PlanFile.Extra).
	Extra []tofuplan.Option
	// ApplyLog, when not nil, is the log of the unit's last apply (see PlanFile.ApplyLog), named
	// ApplyLogLabel in the evidence record.
	ApplyLog      []byte
	ApplyLogLabel string
}

// UnitKind implements Source.
func (p PlanJSON) UnitKind() string { return drift.UnitOpenTofuStack }

// Observe implements Source.
func (p PlanJSON) Observe(_ context.Context, env Env) (*Observed, error) {
	opts, schemaInputs, err := providerSchemaJSON(p.Name+" provider schema", p.ProviderSchema, p.ProviderSchemaLabel)
	if err != nil {
		return nil, err
	}
	logOpts, logInputs, err := applyLogJSON(p.ApplyLogLabel, p.ApplyLog, p.ApplyLogLabel)
	if err != nil {
		return nil, err
	}
	opts, schemaInputs = append(opts, logOpts...), append(schemaInputs, logInputs...)
	opts = append(append(append(opts, p.Extra...), unitPlanOptions(env)...), tofuplan.WithDigester(env.Digester))
	if p.MaxBytes > 0 {
		opts = append(opts, tofuplan.WithMaxBytes(p.MaxBytes))
	}
	plan, err := tofuplan.Read(p.Name, p.Data, opts...)
	if err != nil {
		return nil, fail(StagePlan, err)
	}
	return withInputs(schemaInputs)(planObserved(plan, p.Label, env))
}

func planObserved(plan *tofuplan.Plan, label string, env Env) (*Observed, error) {
	o := &Observed{Observations: plan.Observations, DetectedAt: plan.Timestamp,
		Inputs: []evidence.Input{{Name: label, Digest: plan.Digest, Bytes: plan.Size}}}
	// Policy rules judge every resource, so only then is the prior state decoded.
	if env.Unit != nil && len(env.Unit.Spec.PolicyRules) > 0 {
		res, err := plan.Resources()
		if err != nil {
			return nil, fail(StagePlan, err)
		}
		o.Resources = res
	}
	if env.CountInventory {
		inv, err := plan.Inventory()
		if err != nil {
			return nil, fail(StagePlan, err)
		}
		o.Inventory = &inv
	}
	return o, nil
}

// CloudTrail names the people and roles behind a plan's drift from CloudTrail logs (a local
// file or folder, or an S3 prefix), matching events by the identifiers in the plan and, when
// given, in the state.
type CloudTrail struct {
	Trail string
	// State is the JSON of the state (`tofu show -json`), local or S3; optional.
	State string
	S3    blob.S3Options
	// StateLabel names the state in the evidence record ("<StateLabel> <location>").
	StateLabel string
}

// Attribute implements Attributor.
func (c CloudTrail) Attribute(ctx context.Context, env Env, obs []drift.Observation) ([]evidence.Input, error) {
	loc, err := blob.Open(c.Trail, c.S3)
	if err != nil {
		return nil, fail(StageCloudTrail, err)
	}
	trail, err := cloudtrail.ReadLocation(ctx, loc)
	if err != nil {
		return nil, fail(StageCloudTrail, err)
	}
	var (
		state  []map[string]map[string]any
		inputs []evidence.Input
	)
	if c.State != "" {
		sl, err := blob.Open(c.State, c.S3)
		if err != nil {
			return nil, fail(StageState, err)
		}
		ids, data, err := tofuplan.StateIDsLocation(ctx, sl, tofuplan.WithDigester(env.Digester))
		if err != nil {
			return nil, fail(StageState, err)
		}
		state = append(state, ids)
		inputs = append(inputs, evidence.Input{Name: c.StateLabel + " " + c.State, Digest: evidence.Digest(data), Bytes: int64(len(data))})
	}
	trail.Attribute(obs, state...)
	return inputs, nil
}

// KubernetesLive observes a Kubernetes unit by reading every object its manifests declare live
// from the cluster (never modifying it), with the API server's audit log when given.
type KubernetesLive struct {
	ManifestsPath  string
	KubeconfigPath string
	Context        string
	Namespace      string
	AuditLogPath   string
	// Label names the input in the evidence record ("<Label> <manifests path>").
	Label string
}

// UnitKind implements Source.
func (k KubernetesLive) UnitKind() string { return drift.UnitKubernetes }

// Observe implements Source.
func (k KubernetesLive) Observe(ctx context.Context, env Env) (*Observed, error) {
	obs, err := k.observe(ctx, env)
	if err != nil {
		return nil, fail(StageKubernetes, err)
	}
	// Every declared object is observed, drifted or not: the observations are the inventory.
	inv := drift.InventoryOf(obs)
	return &Observed{Observations: obs, Resources: obs, Inventory: &inv,
		Inputs: []evidence.Input{{Name: k.Label + " " + k.ManifestsPath, Digest: evidence.ObservationsDigest(obs)}}}, nil
}

func (k KubernetesLive) observe(ctx context.Context, env Env) ([]drift.Observation, error) {
	if k.ManifestsPath == "" {
		return nil, errors.New("kubernetes.manifests_path is required")
	}
	manifests, err := kube.LoadManifests(k.ManifestsPath)
	if err != nil {
		return nil, err
	}
	cfg, ns, err := kube.ClientConfig(k.KubeconfigPath, k.Context)
	if err != nil {
		return nil, err
	}
	if k.Namespace != "" {
		ns = k.Namespace
	}
	cluster, err := kube.NewCluster(cfg, ns)
	if err != nil {
		return nil, err
	}
	src := &kube.Source{Cluster: cluster, Options: kube.UnitOptions(env.Unit, kube.WithDigester(env.Digester))}
	if k.AuditLogPath != "" {
		audit, err := kube.ReadAuditLogFile(k.AuditLogPath, kube.WithAuditContext(ctx))
		if err != nil {
			return nil, err
		}
		src.Audit = audit
	}
	return src.Observe(ctx, manifests)
}

// ObjectPair is one object as desired (Git's rendering) and as live (nil when it does not exist).
type ObjectPair struct {
	Desired map[string]any
	Live    map[string]any
	// Name names the object in errors.
	Name string
}

// KubernetesObjects observes a Kubernetes unit from desired/live pairs another system already
// fetched (Argo CD's managed resources), with the audit log when given.
type KubernetesObjects struct {
	Pairs []ObjectPair
	Audit *kube.AuditLog
	// Options are extra comparison options, after the unit's (kube.UnitOptions).
	Options []kube.CompareOption
	// Label names the input in the evidence record.
	Label string
}

// UnitKind implements Source.
func (k KubernetesObjects) UnitKind() string { return drift.UnitKubernetes }

// Observe implements Source.
func (k KubernetesObjects) Observe(_ context.Context, env Env) (*Observed, error) {
	opts := kube.UnitOptions(env.Unit, append([]kube.CompareOption{kube.WithAudit(k.Audit), kube.WithDigester(env.Digester)}, k.Options...)...)
	obs := make([]drift.Observation, 0, len(k.Pairs))
	for _, p := range k.Pairs {
		o, err := kube.Compare(p.Desired, p.Live, opts...)
		if err != nil {
			if p.Name != "" {
				err = fmt.Errorf("%s: %w", p.Name, err)
			}
			return nil, fail(StageKubernetes, err)
		}
		obs = append(obs, o)
	}
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].Ref < obs[j].Ref })
	// Every pair is observed, drifted or not: the observations are the inventory.
	inv := drift.InventoryOf(obs)
	return &Observed{Observations: obs, Resources: obs, Inventory: &inv,
		Inputs: []evidence.Input{{Name: k.Label, Digest: evidence.ObservationsDigest(obs)}}}, nil
}

// unitPlanOptions are the plan reader's options the unit's policy asks for.
func unitPlanOptions(env Env) []tofuplan.Option {
	if env.Unit != nil && env.Unit.Spec.RequirePinnedProviders {
		return []tofuplan.Option{tofuplan.WithProviderConstraints()}
	}
	return nil
}
