package onboarding

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/saas-platform/saas-platform/internal/migrations"

	"github.com/saas-platform/saas-platform/internal/tenantdb"
)

// TenantDB provisions run-time tenants with the stack's provisioner
// (internal/tenantdb's Handler), handing it the event the deployment hands
// it for a stack-file pool tenant: the same SQL, the same credentials
// secret and SSM facts at the same names, encrypted with the same key,
// described and tagged alike, and retired by the same rules.
type TenantDB struct {
	Provisioner *tenantdb.Handler
	Layout      tenantdb.Layout
	// KeyArn encrypts the secret and the facts: the environment's key.
	KeyArn string
	// Protect is the environment's dataProtection.protect: a retired
	// tenant's credentials stay with its data, a dropped one's secret can
	// be restored for 30 days.
	Protect bool
	// Migrations runs the services' migrate commands; nil only where the
	// stack has none.
	Migrations MigrationRunner
}

// MigrationRunner runs a service's migrations (internal/migrations.Runner).
type MigrationRunner interface {
	Run(ctx context.Context, spec migrations.Spec, tenants []migrations.Tenant) ([]string, error)
}

// Migrate implements Provisioner: each service's command, one after the
// other, with the tenant's credentials' secret by its name.
func (p *TenantDB) Migrate(ctx context.Context, t Tenant, specs []migrations.Spec) error {
	for _, spec := range specs {
		if p.Migrations == nil {
			return fmt.Errorf("service %s migrates tenants and the worker has no migrations runner", spec.Service)
		}
		if err := spec.Check(); err != nil {
			return err
		}
		tenant := migrations.Tenant{ID: t.ID, SecretID: p.Layout.SecretName(t.ID)}
		if _, err := p.Migrations.Run(ctx, spec, []migrations.Tenant{tenant}); err != nil {
			return err
		}
	}
	return nil
}

// MigrationTenants lists the registry's active tenants for the
// migrations runner (migrations.RunTimeTenants): a disabled tenant's login
// is off, and it is migrated when it comes back.
type MigrationTenants struct {
	Registry *Registry
	Layout   tenantdb.Layout
}

// MigrationTenants implements migrations.RunTimeTenants. A registry not
// made yet (the first deployment makes it after the services) holds none.
func (m MigrationTenants) MigrationTenants(ctx context.Context) ([]migrations.Tenant, error) {
	tenants, err := m.Registry.List(ctx)
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []migrations.Tenant
	for _, t := range tenants {
		if t.Status == StatusActive {
			out = append(out, migrations.Tenant{ID: t.ID, SecretID: m.Layout.SecretName(t.ID)})
		}
	}
	return out, nil
}

// Ensure implements Provisioner.
func (p *TenantDB) Ensure(ctx context.Context, t Tenant, pool Pool) error {
	_, err := p.Provisioner.Handle(ctx, p.Event(t, pool, "create", "keep"))
	return err
}

// Retire implements Provisioner.
func (p *TenantDB) Retire(ctx context.Context, t Tenant, pool Pool, drop bool) error {
	onRemove := "keep"
	if drop {
		onRemove = "drop"
	}
	_, err := p.Provisioner.Handle(ctx, p.Event(t, pool, "delete", onRemove))
	return err
}

// Event is what the provisioner is handed for a run-time tenant: what the
// deployment hands it for a stack-file pool tenant on the same plan and
// pool (tests/onboarding_test.go compares the two), so that promoting the
// tenant into the stack file adopts everything it has.
func (p *TenantDB) Event(t Tenant, pool Pool, action, onRemove string) tenantdb.Event {
	ev := tenantdb.Event{
		Database: t.Database, ConnectionLimit: t.ConnectionLimit,
		Host: pool.Host, Port: pool.Port, MasterSecretArn: pool.MasterSecretArn, OnRemove: onRemove,
		SecretName: p.Layout.SecretName(t.ID), ParameterPath: p.Layout.ParameterPath(t.ID), KmsKeyID: p.KeyArn,
		Description: tenantdb.PoolDescription(t.ID, t.Plan, t.Pool), Tags: tenantdb.PoolTags(t.ID, t.Plan, t.Pool),
		Protect: p.Protect,
	}
	ev.TF = &struct {
		Action string `json:"action"`
	}{Action: action}
	return ev
}
