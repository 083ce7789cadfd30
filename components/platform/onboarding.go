package platform

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/components/compute"
	"github.com/saas-platform/saas-platform/components/data"
	"github.com/saas-platform/saas-platform/components/onboarding"
	"github.com/saas-platform/saas-platform/config"
	"github.com/saas-platform/saas-platform/internal/migrations"
	runtime "github.com/saas-platform/saas-platform/internal/onboarding"
)

// onboarding builds the run-time onboarding API when the stack names its
// callers.
func (p *Platform) onboarding(ctx *pulumi.Context, name string, cfg *config.Stack, children []pulumi.ResourceOption) error {
	if !cfg.Onboarding.Enabled() {
		return nil
	}
	facts, err := stackFacts(cfg, p.Data, p.Compute.MigrationSpecs)
	if err != nil {
		return fmt.Errorf("platform %s: onboarding: %w", name, err)
	}
	code, err := p.Data.ProvisionerCode()
	if err != nil {
		return fmt.Errorf("platform %s: onboarding: %w", name, err)
	}
	p.Onboarding, err = onboarding.NewOnboarding(ctx, name, &onboarding.OnboardingArgs{
		Project:          cfg.Project,
		Environment:      cfg.Name,
		Region:           cfg.Region,
		PathPrefix:       PathPrefix(cfg),
		KeyArn:           p.Key.Arn,
		Callers:          onboardingCallers(cfg, p.Compute),
		Facts:            facts,
		Worker:           p.Data.TenantFunction,
		Migrations:       len(p.Compute.MigrationSpecs) > 0,
		MigrationGrant:   p.Compute.MigrationGrant(),
		Code:             code,
		LogRetentionDays: cfg.Logs.RetentionDays,
		Protect:          cfg.DataProtection.Protect,
	}, children...)
	return err
}

// onboardingCallers resolves the stack's callers: a service's task role
// for service:<name>, else the ARN as given. Each is named by what it is,
// so adding or removing one leaves the others' permissions alone.
func onboardingCallers(cfg *config.Stack, c *compute.Compute) []onboarding.Caller {
	var callers []onboarding.Caller
	for _, caller := range cfg.Onboarding.Callers {
		if service, ok := config.CallerService(caller); ok {
			callers = append(callers, onboarding.Caller{Name: "service-" + service, Arn: c.TaskRoleArns[service]})
			continue
		}
		sum := sha256.Sum256([]byte(caller))
		last := caller[strings.LastIndex(caller, "/")+1:]
		callers = append(callers, onboarding.Caller{
			Name: unsafeName.ReplaceAllString(last, "-") + "-" + hex.EncodeToString(sum[:4]),
			Arn:  pulumi.String(caller),
		})
	}
	return callers
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// stackFacts is what the API needs to know of the stack: the stack file's
// tenant ids, the plan table, the longest id the stack takes, and each
// pool with what the capacity rule allows it and what the stack file's
// tenants take of that.
func stackFacts(cfg *config.Stack, d *data.Data, migrationSpecs []pulumi.Output) (pulumi.StringOutput, error) {
	loads, err := cfg.PoolLoads()
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	facts := runtime.StackFacts{
		Stack: cfg.Name, Tenants: []string{}, Plans: map[string]runtime.Plan{}, Pools: map[string]runtime.Pool{},
		MaxIDLength: cfg.MaxTenantIDLength(),
	}
	for _, t := range cfg.Tenants {
		facts.Tenants = append(facts.Tenants, t.ID)
	}
	sort.Strings(facts.Tenants)
	for _, name := range config.PlanNames() {
		plan, _ := config.LookupPlan(name)
		facts.Plans[name] = runtime.Plan{Isolation: string(plan.Isolation), ConnectionLimit: plan.ConnectionLimit}
	}
	var inputs []any
	for _, l := range loads {
		pool := d.Pools[l.Instance]
		inputs = append(inputs, pool.Address, pool.SecretArn)
	}
	for _, spec := range migrationSpecs {
		inputs = append(inputs, spec)
	}
	return pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
		for _, spec := range v[2*len(loads):] {
			facts.Migrations = append(facts.Migrations, spec.(migrations.Spec))
		}
		for i, l := range loads {
			facts.Pools[l.Instance] = runtime.Pool{
				Host: v[2*i].(string), Port: data.PostgresPort, MasterSecretArn: v[2*i+1].(string), Class: l.Class,
				Connections: l.ConnectionsAllowed, Databases: l.DatabasesAllowed,
				StackConnections: l.ConnectionsUsed, StackDatabases: l.DatabasesUsed,
			}
		}
		body, err := json.Marshal(facts)
		if err != nil {
			return "", err
		}
		if len(body) > maxFactsBytes {
			return "", fmt.Errorf("the stack's facts for the onboarding API take %d bytes: a DynamoDB item holds at most %d", len(body), maxFactsBytes)
		}
		return string(body), nil
	}).(pulumi.StringOutput), nil
}

// maxFactsBytes leaves room in DynamoDB's 400 KB item for the key and
// the attribute name: about 20,000 tenant ids.
const maxFactsBytes = 390 * 1024

// registryTable is the onboarding API's registry, "" without the API.
func registryTable(cfg *config.Stack) string {
	if !cfg.Onboarding.Enabled() {
		return ""
	}
	return runtime.RegistryTable(cfg.Project, cfg.Name)
}
