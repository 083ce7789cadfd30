package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/saas-platform/saas-platform/internal/tenantdb"
)

// SecretsAPI is the part of Secrets Manager the worker uses beyond the
// provisioner's.
type SecretsAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

// ParametersAPI is the part of SSM the worker uses.
type ParametersAPI interface {
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	AddTagsToResource(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
	DeleteParameters(context.Context, *ssm.DeleteParametersInput, ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
}

// TenantDB provisions run-time tenants with the stack's provisioner
// (internal/tenantdb's Handler: the same SQL, the same credentials JSON),
// and gives them the secret and the SSM parameters a stack-file pool
// tenant has, at the same names, encrypted with the same key.
type TenantDB struct {
	Provisioner *tenantdb.Handler
	Secrets     SecretsAPI
	Parameters  ParametersAPI
	// Naming is the stack's layout of tenant secrets and parameters.
	Naming Naming
}

// Naming is where a stack keeps its tenants' credentials and facts:
// secrets <SecretPrefix>/<id>/database, parameters <ParameterPrefix>/<id>/<fact>.
type Naming struct {
	Project         string
	Stack           string
	SecretPrefix    string // <project>/<stack>/tenants
	ParameterPrefix string // /<project>/<stack>/tenants
	KeyArn          string
	// RecoveryDays is how long a dropped tenant's secret can be restored
	// (0: deleted at once, so the id can be used again right away).
	RecoveryDays int
}

// SecretName is a tenant's credentials secret.
func (n Naming) SecretName(id string) string { return n.SecretPrefix + "/" + id + "/database" }

// ParameterPath is the path of a tenant's connection facts.
func (n Naming) ParameterPath(id string) string { return n.ParameterPrefix + "/" + id }

// facts are a tenant's SSM parameters, as the program publishes them.
var facts = []string{"database", "host", "port", "secret-arn"}

// Ensure implements Provisioner.
func (p *TenantDB) Ensure(ctx context.Context, t Tenant, pool Pool) error {
	secretArn, err := p.secret(ctx, t)
	if err != nil {
		return err
	}
	if _, err := p.Provisioner.Handle(ctx, p.event(t, pool, secretArn, "create", "")); err != nil {
		return err
	}
	values := map[string]string{
		"host": pool.Host, "port": strconv.Itoa(pool.Port), "database": t.Database, "secret-arn": secretArn,
	}
	for _, fact := range facts {
		name := p.Naming.ParameterPath(t.ID) + "/" + fact
		if _, err := p.Parameters.PutParameter(ctx, &ssm.PutParameterInput{
			Name:        aws.String(name),
			Description: aws.String(fmt.Sprintf("Tenant %s (%s): PostgreSQL: %s", t.ID, t.Plan, fact)),
			Type:        ssmtypes.ParameterTypeSecureString,
			KeyId:       aws.String(p.Naming.KeyArn),
			Value:       aws.String(values[fact]),
			Overwrite:   aws.Bool(true),
		}); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		// PutParameter takes no tags when it overwrites: tag separately.
		if _, err := p.Parameters.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
			ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(name), Tags: p.ssmTags(t),
		}); err != nil {
			return fmt.Errorf("tagging %s: %w", name, err)
		}
	}
	return nil
}

// Retire implements Provisioner: the provisioner disables the login (and
// with drop removes the database and role); a drop also deletes the secret
// and the parameters, as removing a stack-file tenant marked drop does.
func (p *TenantDB) Retire(ctx context.Context, t Tenant, pool Pool, drop bool) error {
	onRemove := "keep"
	if drop {
		onRemove = "drop"
	}
	if _, err := p.Provisioner.Handle(ctx, p.event(t, pool, "", "delete", onRemove)); err != nil {
		return err
	}
	if !drop {
		return nil
	}
	var names []string
	for _, fact := range facts {
		names = append(names, p.Naming.ParameterPath(t.ID)+"/"+fact)
	}
	if _, err := p.Parameters.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: names}); err != nil {
		return fmt.Errorf("deleting tenant %s's parameters: %w", t.ID, err)
	}
	input := &secretsmanager.DeleteSecretInput{SecretId: aws.String(p.Naming.SecretName(t.ID))}
	if p.Naming.RecoveryDays > 0 {
		input.RecoveryWindowInDays = aws.Int64(int64(p.Naming.RecoveryDays))
	} else {
		input.ForceDeleteWithoutRecovery = aws.Bool(true)
	}
	_, err := p.Secrets.DeleteSecret(ctx, input)
	var notFound *smtypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("deleting tenant %s's secret: %w", t.ID, err)
	}
	return nil
}

func (p *TenantDB) event(t Tenant, pool Pool, secretArn, action, onRemove string) tenantdb.Event {
	ev := tenantdb.Event{
		Database: t.Database, ConnectionLimit: t.ConnectionLimit, Host: pool.Host, Port: pool.Port,
		MasterSecretArn: pool.MasterSecretArn, TenantSecretArn: secretArn, OnRemove: onRemove,
	}
	ev.TF = &struct {
		Action string `json:"action"`
	}{Action: action}
	return ev
}

// secret returns the tenant's secret, creating it empty (the provisioner
// writes the credentials) the first time, as the deployment does for a
// stack-file tenant.
func (p *TenantDB) secret(ctx context.Context, t Tenant) (string, error) {
	name := p.Naming.SecretName(t.ID)
	out, err := p.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	var notFound *smtypes.ResourceNotFoundException
	switch {
	case err == nil && out.DeletedDate == nil:
		return aws.ToString(out.ARN), nil
	case err == nil:
		return "", fmt.Errorf("secret %s is scheduled for deletion: restore it (aws secretsmanager restore-secret) or wait until it is gone", name)
	case !errors.As(err, &notFound):
		return "", fmt.Errorf("reading secret %s: %w", name, err)
	}
	var tags []smtypes.Tag
	for k, v := range p.tags(t) {
		tags = append(tags, smtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	created, err := p.Secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:        aws.String(name),
		Description: aws.String(fmt.Sprintf("Tenant %s: credentials for database %s in the shared PostgreSQL", t.ID, t.Database)),
		KmsKeyId:    aws.String(p.Naming.KeyArn),
		Tags:        tags,
	})
	if err != nil {
		return "", fmt.Errorf("creating secret %s: %w", name, err)
	}
	return aws.ToString(created.ARN), nil
}

// tags are the tags every tenant resource of the stack carries; the
// run-time ones say who manages them.
func (p *TenantDB) tags(t Tenant) map[string]string {
	return map[string]string{
		"TenantId": t.ID, "Plan": t.Plan,
		"Project": p.Naming.Project, "Environment": p.Naming.Stack, "ManagedBy": "onboarding-api",
	}
}

func (p *TenantDB) ssmTags(t Tenant) []ssmtypes.Tag {
	var tags []ssmtypes.Tag
	for k, v := range p.tags(t) {
		tags = append(tags, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return tags
}
