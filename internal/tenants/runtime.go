package tenants

import (
	"context"
	"fmt"
	"io"
	"slices"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/onboarding"
)

// RegistryOpener opens a stack's tenant registry table in a region.
type RegistryOpener func(ctx context.Context, region, table string) (*onboarding.Registry, error)

// OpenRegistry reaches the registry with the AWS SDK's credentials from
// the environment (profile, SSO, role, AWS_ENDPOINT_URL for an emulator).
func OpenRegistry(ctx context.Context, region, table string) (*onboarding.Registry, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("loading AWS credentials from the environment: %w", err)
	}
	return &onboarding.Registry{DB: dynamodb.NewFromConfig(cfg), Table: table}, nil
}

// registry opens the session's stack's registry.
func (s *session) registry(ctx context.Context) (*onboarding.Registry, error) {
	if s.opts.Registry == nil {
		return nil, fmt.Errorf("the run-time tenants are read from the registry: pass --registry")
	}
	if !s.current.Onboarding.Enabled() {
		return nil, refuse("%s has no onboarding API (saas-platform:onboarding.callers is empty): it has no registry of run-time tenants", s.file.name)
	}
	return s.opts.Registry(ctx, s.current.Region, onboarding.RegistryTable(s.project, s.opts.Stack))
}

// notRunTime refuses, when the registry is read (--registry), an id the
// onboarding API already gave a run-time tenant: ids are unique across the
// stack file and the registry, and moving that tenant is promote's job.
func (s *session) notRunTime(id string) error {
	if s.opts.Registry == nil || !s.current.Onboarding.Enabled() {
		return nil
	}
	ctx := context.Background()
	reg, err := s.registry(ctx)
	if err != nil {
		return err
	}
	t, found, err := reg.Get(ctx, id)
	if err != nil || !found {
		return err
	}
	return refuse("cannot add tenant %s: it is a run-time tenant of the registry %s (plan %s, %s): tenant ids are unique across the stack file "+
		"and the registry; run promote %s --registry to move it into the stack file", id, reg.Table, t.Plan, t.Status, id)
}

// listRuntime prints the registry's tenants after the stack file's.
func (s *session) listRuntime(ctx context.Context, out io.Writer) error {
	reg, err := s.registry(ctx)
	if err != nil {
		return err
	}
	tenants, err := reg.List(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nRun-time tenants (onboarded through the API; registry %s):\n", reg.Table)
	if len(tenants) == 0 {
		fmt.Fprintln(out, "none")
		return nil
	}
	w := newTable(out)
	fmt.Fprintln(w, "TENANT\tPLAN\tPOOL\tSTATUS\tUPDATED\tREQUESTED BY\tLAST ERROR")
	for _, t := range tenants {
		status := t.Status
		if t.Pending != "" {
			status += ", " + t.Pending + " pending"
		}
		if _, inFile := s.file.find(t.ID); inFile {
			status += ", promoted into " + s.file.name
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Plan, t.Pool, status, t.UpdatedAt, orDash(t.RequestedBy), orDash(t.LastError))
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Promote moves a run-time tenant into the stack file, on its plan and in
// its pool: the deployment then manages the same database, login, secret
// and parameters. Once that deployment has run (its stack facts list the
// tenant), running promote again hands the registry entry over: it is
// removed, and the tenant's place in its pool is counted from the stack
// file alone.
func Promote(opts Options, out io.Writer, id string) error {
	if err := checkArguments("promote", id, nil); err != nil {
		return err
	}
	s, err := open(opts, out, "promote tenant "+id)
	if err != nil {
		return err
	}
	ctx := context.Background()
	reg, err := s.registry(ctx)
	if err != nil {
		return err
	}
	t, found, err := reg.Get(ctx, id)
	if err != nil {
		return err
	}
	if !found {
		return refuse("cannot promote tenant %s: the registry %s has no run-time tenant %s", id, reg.Table, id)
	}
	if _, inFile := s.file.find(id); inFile {
		facts, err := reg.Facts(ctx)
		if err != nil {
			return err
		}
		if !facts.HasTenant(id) {
			return refuse("tenant %s is promoted into %s but not deployed yet: deploy it (pulumi up -s %s), then run promote %s again "+
				"to hand its registry entry over", id, s.file.name, opts.Stack, id)
		}
		if err := reg.Forget(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(out, "Tenant %s is managed by %s now: its registry entry is removed, and its place in pool %s is counted from the stack file.\n",
			id, s.file.name, t.Pool)
		return nil
	}
	if t.Status != onboarding.StatusActive || t.Pending != "" {
		return refuse("cannot promote tenant %s: it is %s; only an active run-time tenant moves into the stack file", id, describeRuntime(t))
	}
	// What the registry says is checked as an argument would be.
	plan, pool := t.Plan, t.Pool
	if err := checkArguments("promote", id, &plan); err != nil {
		return err
	}
	after, err := s.file.add(id, plan, pool)
	if err != nil {
		return err
	}
	want := append(slices.Clone(s.file.entries), entry{ID: id, Plan: plan, Pool: pool})
	where := ""
	if t.Pool != config.SharedPool {
		where = ", pool " + t.Pool
	}
	intro := fmt.Sprintf("Promoting run-time tenant %s into stack %s (plan %s%s): the deployment adopts its database, login, secret and parameters; no data moves.",
		id, opts.Stack, t.Plan, where)
	return s.apply("promote", id, after, want, intro, []string{
		fmt.Sprintf("Next: deploy this (pulumi up -s %s), then run promote %s --registry again to hand its registry entry over.", opts.Stack, id),
	})
}

func describeRuntime(t onboarding.Tenant) string {
	if t.Pending != "" {
		return t.Status + " with a " + t.Pending + " pending"
	}
	return t.Status
}
