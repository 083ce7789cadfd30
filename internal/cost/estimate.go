// Package cost estimates what an offline plan costs per month to run: the
// on-demand list price of every resource that is billed by the hour or the
// month, 730 hours a month, with the resources priced by usage (storage,
// requests, data transfer, logs) listed at zero. It works from a
// *plan.Result alone, so it prices a plan just run as well as a JSON plan
// read back from a file.
package cost

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/saas-platform/saas-platform/internal/plan"
)

// Currency of every figure.
const Currency = "USD"

// Line is one priced item of one resource: an RDS instance has a line for
// its hours, one for its storage and one for its managed secret.
type Line struct {
	// Component is the platform's component the resource belongs to:
	// network, data, compute, observability.
	Component string `json:"component"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	// Quantity counts Unit: instances, GB, tasks, task-hours, alarms...
	Quantity float64 `json:"quantity"`
	// Unit is what one unit is, priced per month ("instance-month"); with
	// Type and Name it identifies the line across two plans.
	Unit string `json:"unit"`
	// UnitPrice is the price of one unit, in USD.
	UnitPrice float64 `json:"unitPrice"`
	// Monthly is Quantity x UnitPrice, rounded to the cent; 0 for items
	// priced by usage.
	Monthly float64 `json:"monthly"`
	// Detail says how the price was derived, or for usage what is billed.
	Detail string `json:"detail,omitempty"`
	// Tenant is the TenantId tag of the resource, if any.
	Tenant string `json:"tenant,omitempty"`
	// AlwaysOn is what the line would cost if its resource never slept;
	// set only on the lines of a resource a schedule puts to sleep.
	AlwaysOn float64 `json:"alwaysOn,omitempty"`
}

// alwaysOn is the line's figure without any schedule.
func (l Line) alwaysOn() float64 {
	if l.AlwaysOn != 0 {
		return l.AlwaysOn
	}
	return l.Monthly
}

// UsageUnit marks a line priced by usage: at zero in the estimate.
const UsageUnit = "usage"

// ComponentCost is one component's monthly total.
type ComponentCost struct {
	Component string  `json:"component"`
	Monthly   float64 `json:"monthly"`
	// AlwaysOn is the component's figure if nothing slept.
	AlwaysOn float64 `json:"alwaysOn"`
}

// TenantCost is what one tenant costs: the resources tagged with its id,
// plus, for a pool tenant, an equal share of the instance it is placed on
// (the shared PostgreSQL or a pool).
type TenantCost struct {
	ID        string  `json:"id"`
	Plan      string  `json:"plan,omitempty"`
	Isolation string  `json:"isolation"`
	Own       float64 `json:"own"`
	Share     float64 `json:"share"`
	Monthly   float64 `json:"monthly"`
	// AlwaysOn is the tenant's figure if its databases never slept.
	AlwaysOn float64 `json:"alwaysOn"`
}

// Isolation models, as tenants' resources reveal them.
const (
	Silo = "silo"
	Pool = "pool"
)

// Estimate is a plan's monthly run-rate.
type Estimate struct {
	Currency string  `json:"currency"`
	Monthly  float64 `json:"monthly"`
	// AlwaysOn is what the plan would cost if no schedule put anything to
	// sleep: the figure next to which Monthly shows what sleeping saves.
	AlwaysOn      float64 `json:"alwaysOn"`
	HoursPerMonth float64 `json:"hoursPerMonth"`
	// Region is the stack's region; resources managed by a provider in
	// another region are priced there.
	Region     string          `json:"region"`
	PricesAsOf string          `json:"pricesAsOf"`
	Components []ComponentCost `json:"components"`
	Lines      []Line          `json:"lines"`
	Tenants    []TenantCost    `json:"tenants"`
	// Unpriced lists the resource types in neither the price table nor
	// the free list: the estimate leaves them out, and a test fails.
	Unpriced []string `json:"unpriced,omitempty"`
}

// Of estimates the monthly cost of a plan.
func Of(result *plan.Result) (*Estimate, error) {
	if result == nil {
		return nil, fmt.Errorf("cost: no plan to estimate")
	}
	e := newEstimator(result.Resources)
	var err error
	if e.sleeps, err = sleeps(result.Resources); err != nil {
		return nil, fmt.Errorf("cost: %w", err)
	}
	est := &Estimate{
		Currency:      Currency,
		HoursPerMonth: HoursPerMonth,
		Region:        e.defaultRegion,
		PricesAsOf:    PricesAsOf,
		Lines:         []Line{},
	}
	unpriced := map[string]bool{}
	for _, r := range result.Resources {
		lines, priced, err := e.price(r)
		if err != nil {
			return nil, fmt.Errorf("cost of %s %q: %w", r.Type, r.Name, err)
		}
		if !priced {
			unpriced[r.Type] = true
			continue
		}
		est.Lines = append(est.Lines, lines...)
	}
	est.Unpriced = slices.Sorted(maps.Keys(unpriced))
	sortLines(est.Lines)
	est.Monthly, est.AlwaysOn, est.Components = totals(est.Lines)
	est.Tenants = tenants(result.Resources, est.Lines)
	return est, nil
}

// Report adapts Of to the plan command, which cannot import this package.
func Report(result *plan.Result) (plan.CostReport, error) {
	est, err := Of(result)
	if err != nil {
		return nil, err // not a nil *Estimate inside a non-nil interface
	}
	return est, nil
}

// pricer prices one resource of one type.
type pricer func(e *estimator, r plan.Resource, p Region) ([]Line, error)

var pricers = map[string]pricer{
	"aws:rds/instance:Instance":                                    rdsInstance,
	"aws:elasticache/replicationGroup:ReplicationGroup":            cacheReplicationGroup,
	"aws:elasticache/cluster:Cluster":                              cacheCluster,
	"aws:elasticache/serverlessCache:ServerlessCache":              serverlessCache,
	"aws:ecs/service:Service":                                      fargateService,
	"aws:ecs/cluster:Cluster":                                      ecsCluster,
	"aws:cloudwatch/eventTarget:EventTarget":                       scheduledTask,
	"awsx:ec2:Vpc":                                                 awsxVpc,
	"aws:ec2/natGateway:NatGateway":                                natGateway,
	"aws:ec2/instance:Instance":                                    ec2Instance,
	"aws:ec2/eip:Eip":                                              elasticIP,
	"aws:lb/loadBalancer:LoadBalancer":                             loadBalancer,
	"aws:ec2/vpcEndpoint:VpcEndpoint":                              vpcEndpoint,
	"aws:kms/key:Key":                                              kmsKey,
	"aws:kms/replicaKey:ReplicaKey":                                kmsKey,
	"aws:secretsmanager/secret:Secret":                             secret,
	"aws:cloudwatch/metricAlarm:MetricAlarm":                       metricAlarm,
	"aws:cloudwatch/compositeAlarm:CompositeAlarm":                 compositeAlarm,
	"aws:cloudwatch/dashboard:Dashboard":                           dashboard,
	"aws:wafv2/webAcl:WebAcl":                                      webACL,
	"aws:route53/zone:Zone":                                        hostedZone,
	"aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": hostedZone,
	"aws:ssm/parameter:Parameter":                                  ssmParameter,
	"aws:lambda/invocation:Invocation":                             provisionedTenant,
}

// Known reports whether the estimate knows a resource type: priced, priced
// by usage or free. The plan of every stack must hold known types only.
func Known(typ string) bool {
	if _, ok := pricers[typ]; ok {
		return true
	}
	if _, ok := Usage[typ]; ok {
		return true
	}
	return isFree(typ)
}

func isFree(typ string) bool {
	if Free[typ] {
		return true
	}
	for _, prefix := range freePrefixes {
		if strings.HasPrefix(typ, prefix) {
			return true
		}
	}
	return false
}

// estimator holds what pricing one resource needs from the others.
type estimator struct {
	resources []plan.Resource
	// regions maps an AWS provider's URN to its region.
	regions       map[string]string
	defaultRegion string
	// sleeps are the transitions of every resource a schedule puts to
	// sleep, by rdsKey or ecsKey.
	sleeps map[string][]transition
}

func newEstimator(resources []plan.Resource) *estimator {
	e := &estimator{resources: resources, regions: map[string]string{}}
	for _, r := range resources {
		if r.Type == "pulumi:providers:aws" && r.String("region") != "" {
			e.regions[r.URN] = r.String("region")
		}
	}
	// The stack's region is the one most resources are managed in: a
	// second provider (a DR region, us-east-1 for CloudFront) manages few.
	managed := map[string]int{}
	for _, r := range resources {
		if region, ok := e.regions[r.Options.Provider]; ok {
			managed[region]++
		}
	}
	for region, n := range managed {
		if n > managed[e.defaultRegion] || (n == managed[e.defaultRegion] && region < e.defaultRegion) {
			e.defaultRegion = region
		}
	}
	if e.defaultRegion == "" {
		for _, r := range resources {
			if r.Type == "awsx:ec2:Vpc" {
				e.defaultRegion = regionOfZones(r.Strings("availabilityZoneNames"))
			}
		}
	}
	if e.defaultRegion == "" {
		e.defaultRegion = plan.DefaultRegion
	}
	return e
}

// regionOfZones turns ["ap-northeast-1a", ...] into "ap-northeast-1".
func regionOfZones(zones []string) string {
	if len(zones) == 0 || len(zones[0]) < 2 {
		return ""
	}
	return zones[0][:len(zones[0])-1]
}

func (e *estimator) region(r plan.Resource) string {
	if region, ok := e.regions[r.Options.Provider]; ok {
		return region
	}
	if region, ok := e.regions[r.Provider]; ok {
		return region
	}
	if r.Type == "awsx:ec2:Vpc" {
		if region := regionOfZones(r.Strings("availabilityZoneNames")); region != "" {
			return region
		}
	}
	return e.defaultRegion
}

// price returns a resource's lines; priced is false for a type the table
// does not know.
func (e *estimator) price(r plan.Resource) (lines []Line, priced bool, err error) {
	if f, ok := pricers[r.Type]; ok {
		region := e.region(r)
		p, ok := Prices[region]
		if !ok {
			return nil, true, fmt.Errorf("no prices for region %s: add it to internal/cost/prices.go", region)
		}
		lines, err := f(e, r, p)
		return lines, true, err
	}
	if what, ok := Usage[r.Type]; ok {
		return []Line{usageLine(r, what)}, true, nil
	}
	return nil, isFree(r.Type), nil
}

// line builds a line of r; hourly items pass their price per month.
func line(r plan.Resource, quantity float64, unit string, unitPrice float64, detail string) Line {
	return Line{
		Component: componentOf(r.URN),
		Type:      r.Type,
		Name:      r.Name,
		Quantity:  round(quantity, 6),
		Unit:      unit,
		UnitPrice: round(unitPrice, 6),
		Monthly:   round(quantity*unitPrice, 2),
		Detail:    detail,
		Tenant:    r.String("tags.TenantId"),
	}
}

func usageLine(r plan.Resource, what string) Line {
	return line(r, 0, UsageUnit, 0, "priced by usage: "+what)
}

func round(x float64, places int) float64 {
	scale := math.Pow(10, float64(places))
	return math.Round(x*scale) / scale
}

// perMonth turns an hourly price into a monthly one.
func perMonth(hourly float64) float64 {
	return hourly * HoursPerMonth
}

// componentOf names the platform component a resource URN belongs to: the
// module of the first component under the platform in its type chain
// (saas:compute:Compute -> compute), "platform" for what the platform
// itself registers.
func componentOf(urn string) string {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return "platform"
	}
	chain := strings.Split(parts[2], "$")
	for _, typ := range chain[:len(chain)-1] {
		segments := strings.Split(typ, ":")
		if len(segments) != 3 || typ == "pulumi:pulumi:Stack" || segments[1] == "platform" {
			continue
		}
		return segments[1]
	}
	return "platform"
}

// componentOrder puts the platform's layers in the order the README's
// diagram and docs/cost.md list them; others follow alphabetically.
var componentOrder = map[string]int{"network": 1, "data": 2, "compute": 3, "observability": 4}

func lessComponent(a, b string) bool {
	oa, ob := componentOrder[a], componentOrder[b]
	if oa == 0 {
		oa = len(componentOrder) + 1
	}
	if ob == 0 {
		ob = len(componentOrder) + 1
	}
	if oa != ob {
		return oa < ob
	}
	return a < b
}

func sortLines(lines []Line) {
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if a.Component != b.Component {
			return lessComponent(a.Component, b.Component)
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Unit < b.Unit
	})
}

// cents avoids float drift when adding many rounded figures.
func cents(x float64) int64 { return int64(math.Round(x * 100)) }

func dollars(c int64) float64 { return float64(c) / 100 }

func totals(lines []Line) (monthly, alwaysOn float64, components []ComponentCost) {
	var total, totalOn int64
	by, byOn := map[string]int64{}, map[string]int64{}
	var names []string
	for _, l := range lines {
		if _, seen := by[l.Component]; !seen {
			names = append(names, l.Component)
		}
		by[l.Component] += cents(l.Monthly)
		byOn[l.Component] += cents(l.alwaysOn())
		total += cents(l.Monthly)
		totalOn += cents(l.alwaysOn())
	}
	sort.Slice(names, func(i, j int) bool { return lessComponent(names[i], names[j]) })
	out := make([]ComponentCost, 0, len(names))
	for _, name := range names {
		out = append(out, ComponentCost{Component: name, Monthly: dollars(by[name]), AlwaysOn: dollars(byOn[name])})
	}
	return dollars(total), dollars(totalOn), out
}

// tenantEvent reads a tenant provisioner invocation's input: the pool
// tenant it provisions, by its tags (TenantId, Plan, Pool).
func tenantEvent(r plan.Resource) (struct {
	SecretName string            `json:"secretName"`
	Tags       map[string]string `json:"tags"`
}, bool) {
	var ev struct {
		SecretName string            `json:"secretName"`
		Tags       map[string]string `json:"tags"`
	}
	if r.Type != "aws:lambda/invocation:Invocation" || json.Unmarshal([]byte(r.String("input")), &ev) != nil || ev.Tags["TenantId"] == "" {
		return ev, false
	}
	return ev, true
}

// sharedPool is the pool of an instance or tenant that names none.
const sharedPool = "shared"

// tenants attributes lines to tenants. A tenant is every TenantId tag in
// the plan, on a resource or in a provisioner invocation's input; it is a
// silo tenant when a database instance carries its tag. Each instance that
// holds pool tenants (an RDS instance with no TenantId tag: the shared
// one, or a pool's, tagged Pool) is split evenly across the pool tenants
// placed on it: each holds a database in it, and the plan knows nothing of
// their sizes. The rest of the platform is not attributed to anyone.
func tenants(resources []plan.Resource, lines []Line) []TenantCost {
	byID := map[string]*TenantCost{}
	poolOf := map[string]string{}
	instancePool := map[string]string{}
	for _, r := range resources {
		tags := map[string]string{"TenantId": r.String("tags.TenantId"), "Plan": r.String("tags.Plan"), "Pool": r.String("tags.Pool")}
		if ev, ok := tenantEvent(r); ok {
			tags = ev.Tags
		}
		id := tags["TenantId"]
		if id == "" {
			if isDatabase(r.Type) {
				instancePool[r.Name] = cmp.Or(tags["Pool"], sharedPool)
			}
			continue
		}
		t, ok := byID[id]
		if !ok {
			t = &TenantCost{ID: id, Isolation: Pool}
			byID[id] = t
		}
		if t.Plan == "" {
			t.Plan = tags["Plan"]
		}
		if tags["Pool"] != "" {
			poolOf[id] = tags["Pool"]
		}
		if isDatabase(r.Type) {
			t.Isolation = Silo
		}
	}
	own, ownOn := map[string]int64{}, map[string]int64{}
	shared, sharedOn := map[string]int64{}, map[string]int64{}
	for _, l := range lines {
		switch {
		case l.Tenant != "":
			own[l.Tenant] += cents(l.Monthly)
			ownOn[l.Tenant] += cents(l.alwaysOn())
		case isDatabase(l.Type) && l.Component == "data":
			pool := cmp.Or(instancePool[l.Name], sharedPool)
			shared[pool] += cents(l.Monthly)
			sharedOn[pool] += cents(l.alwaysOn())
		}
	}
	members := map[string]int{}
	for id, t := range byID {
		if t.Isolation == Pool {
			members[cmp.Or(poolOf[id], sharedPool)]++
		}
	}
	out := make([]TenantCost, 0, len(byID))
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		t := byID[id]
		t.Own = dollars(own[id])
		var shareOn float64
		if pool := cmp.Or(poolOf[id], sharedPool); t.Isolation == Pool && members[pool] > 0 {
			t.Share = round(dollars(shared[pool])/float64(members[pool]), 2)
			shareOn = round(dollars(sharedOn[pool])/float64(members[pool]), 2)
		}
		t.Monthly = round(t.Own+t.Share, 2)
		t.AlwaysOn = round(dollars(ownOn[id])+shareOn, 2)
		out = append(out, *t)
	}
	return out
}

func isDatabase(typ string) bool {
	return typ == "aws:rds/instance:Instance" || typ == "aws:rds/cluster:Cluster"
}
