package onboarding

import (
	"context"

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
