package cost

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/saas-platform/saas-platform/internal/plan"
)

func money(x float64) string {
	return "$" + strconv.FormatFloat(x, 'f', -1, 64)
}

func hourly(price float64) string {
	return fmt.Sprintf("730 h x %s", money(price))
}

// sleeping scales a line of a scheduled resource to its awake hours,
// keeping what it would cost always on beside it.
func sleeping(l Line, up awake, detail string) Line {
	on := l.Monthly
	l.Quantity = round(l.Quantity*up.share, 6)
	l.Monthly = round(l.Quantity*l.UnitPrice, 2)
	l.AlwaysOn = on
	l.Detail = fmt.Sprintf("%s; %s, always on %s", detail, up, money(on))
	return l
}

func rdsInstance(e *estimator, r plan.Resource, p Region) ([]Line, error) {
	class := r.String("instanceClass")
	price, ok := p.RDSInstanceHour[class]
	if !ok {
		return nil, fmt.Errorf("unknown RDS instance class %q: add its price to internal/cost/prices.go", class)
	}
	deployment, factor := "Single-AZ", 1.0
	if r.Bool("multiAz") {
		deployment, factor = "Multi-AZ", 2.0
	}
	storageType := r.String("storageType")
	if storageType == "" {
		storageType = "gp2"
	}
	storage, ok := p.RDSStorageGBMonth[storageType]
	if !ok {
		return nil, fmt.Errorf("unknown RDS storage type %q: add its price to internal/cost/prices.go", storageType)
	}
	up, err := e.awakeOf(rdsKey(r.String("identifier")))
	if err != nil {
		return nil, fmt.Errorf("sleep schedule of RDS instance %s: %w", r.String("identifier"), err)
	}
	hours := line(r, 1, "instance-month", perMonth(price*factor),
		fmt.Sprintf("%s, %s, %s", class, deployment, hourly(price*factor)))
	if up.scheduled() {
		// Stopped, an instance bills only its storage.
		hours = sleeping(hours, up, fmt.Sprintf("%s, %s, %s h x %s", class, deployment,
			strconv.FormatFloat(round(up.hours, 2), 'f', -1, 64), money(price*factor)))
	}
	lines := []Line{
		hours,
		line(r, r.Number("allocatedStorage"), "GB-month", storage*factor,
			fmt.Sprintf("%s, %s, allocated storage; autoscaling growth is usage", storageType, deployment)),
	}
	if r.Bool("manageMasterUserPassword") {
		lines = append(lines, line(r, 1, "secret-month", p.SecretMonth, "the RDS-managed master password's secret"))
	}
	lines = append(lines, usageLine(r,
		"backup storage beyond the allocated size, snapshots, enhanced monitoring and exported logs in CloudWatch Logs"))
	return lines, nil
}

// cacheNodes counts a replication group's nodes: shards x (1 + replicas)
// with cluster mode on, numCacheClusters otherwise.
func cacheNodes(r plan.Resource) float64 {
	if shards := r.Number("numNodeGroups"); shards > 0 {
		return shards * (1 + r.Number("replicasPerNodeGroup"))
	}
	if n := r.Number("numCacheClusters"); n > 0 {
		return n
	}
	return 1 + r.Number("replicasPerNodeGroup")
}

func cacheLines(r plan.Resource, p Region, nodeType string, nodes float64) ([]Line, error) {
	price, ok := p.CacheNodeHour[nodeType]
	if !ok {
		return nil, fmt.Errorf("unknown ElastiCache node type %q: add its price to internal/cost/prices.go", nodeType)
	}
	engine := "Redis OSS"
	if r.String("engine") == "valkey" {
		engine = "Valkey"
		price *= 1 - ValkeyDiscount
	}
	return []Line{
		line(r, nodes, "node-month", perMonth(price), fmt.Sprintf("%s, %s, %s", nodeType, engine, hourly(round(price, 6)))),
		usageLine(r, "snapshots beyond one per shard, data transfer across AZs"),
	}, nil
}

// serverlessCache prices an ElastiCache Serverless cache at its metered
// minimum of data storage; data above it and ECPUs are usage.
func serverlessCache(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	engine := r.String("engine")
	price, ok := p.ServerlessCacheGBHour[engine]
	if !ok {
		return nil, fmt.Errorf("no ElastiCache Serverless price for engine %q in this region: add it to internal/cost/prices.go", engine)
	}
	minimum := ServerlessCacheMinimumGB[engine]
	return []Line{
		line(r, minimum, "GB-month", perMonth(price), fmt.Sprintf("ElastiCache Serverless (%s), the %g GB every cache is metered for at least, %s",
			engine, minimum, hourly(price))),
		usageLine(r, "ECPUs (requests), data stored above the minimum, snapshots"),
	}, nil
}

func cacheReplicationGroup(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	return cacheLines(r, p, r.String("nodeType"), cacheNodes(r))
}

func cacheCluster(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	// A member of a replication group is priced with the group.
	if r.String("replicationGroupId") != "" {
		return nil, nil
	}
	nodes := r.Number("numCacheNodes")
	if nodes == 0 {
		nodes = 1
	}
	return cacheLines(r, p, r.String("nodeType"), nodes)
}

func ecsCluster(_ *estimator, r plan.Resource, _ Region) ([]Line, error) {
	items, _ := r.Input("settings").([]any)
	for _, item := range items {
		s, _ := item.(map[string]any)
		if s["name"] == "containerInsights" && (s["value"] == "enabled" || s["value"] == "enhanced") {
			return []Line{usageLine(r, "Container Insights metrics and performance logs, per metric and GB")}, nil
		}
	}
	return nil, nil
}

func awsxVpc(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	zones := float64(len(r.Strings("availabilityZoneNames")))
	if zones == 0 {
		zones = r.Number("numberOfAvailabilityZones")
	}
	if zones == 0 {
		zones = 3 // awsx's default
	}
	strategy := r.String("natGateways.strategy")
	if strategy == "" {
		strategy = "OnePerAz" // awsx's default
	}
	var nats float64
	switch strategy {
	case "None":
		return nil, nil
	case "Single":
		nats = 1
	case "OnePerAz":
		nats = zones
	default:
		return nil, fmt.Errorf("unknown NAT gateway strategy %q", strategy)
	}
	return []Line{
		line(r, nats, "NAT gateway-month", perMonth(p.NATGatewayHour),
			fmt.Sprintf("%s, %s; data processed per GB is usage", strategy, hourly(p.NATGatewayHour))),
		line(r, nats, "public IPv4-month", perMonth(p.PublicIPv4Hour),
			fmt.Sprintf("the NAT gateways' Elastic IPs, %s", hourly(p.PublicIPv4Hour))),
	}, nil
}

// ec2Instance prices an instance's hours, its root volume and its public
// IPv4 address. The volume's size is the plan's; an instance that names
// none is refused rather than priced at a guess.
func ec2Instance(e *estimator, r plan.Resource, p Region) ([]Line, error) {
	typ := r.String("instanceType")
	price, ok := p.EC2InstanceHour[typ]
	if !ok {
		return nil, fmt.Errorf("unknown EC2 instance type %q: add its price to internal/cost/prices.go", typ)
	}
	volumeType := r.String("rootBlockDevice.volumeType")
	if volumeType == "" {
		volumeType = "gp2"
	}
	storage, ok := p.EBSGBMonth[volumeType]
	if !ok {
		return nil, fmt.Errorf("unknown EBS volume type %q: add its price to internal/cost/prices.go", volumeType)
	}
	size := r.Number("rootBlockDevice.volumeSize")
	if size == 0 {
		return nil, fmt.Errorf("the root volume's size is not set: the estimate cannot know the image's")
	}
	up, err := e.awakeOf(instanceKey(r.URN))
	if err != nil {
		return nil, fmt.Errorf("sleep schedule of EC2 instance %s: %w", r.Name, err)
	}
	// Stopped, an instance bills its volume only: no hours, and no public
	// address, which EC2 releases.
	hours := line(r, 1, "instance-month", perMonth(price), fmt.Sprintf("%s, Linux, %s", typ, hourly(price)))
	address := line(r, 1, "public IPv4-month", perMonth(p.PublicIPv4Hour), hourly(p.PublicIPv4Hour))
	if up.scheduled() {
		hours = sleeping(hours, up, hours.Detail)
		address = sleeping(address, up, address.Detail)
	}
	lines := []Line{hours, line(r, size, "GB-month", storage, volumeType+" root volume")}
	if r.Bool("associatePublicIpAddress") {
		lines = append(lines, address)
	}
	return append(lines, usageLine(r, "data transfer out to the internet; CPU credits beyond the baseline in unlimited mode")), nil
}

func natGateway(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	return []Line{line(r, 1, "NAT gateway-month", perMonth(p.NATGatewayHour),
		fmt.Sprintf("%s; data processed per GB is usage", hourly(p.NATGatewayHour)))}, nil
}

func elasticIP(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	return []Line{line(r, 1, "public IPv4-month", perMonth(p.PublicIPv4Hour), hourly(p.PublicIPv4Hour))}, nil
}

func loadBalancer(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	kind := r.String("loadBalancerType")
	var hour, unit float64
	var unitName string
	switch kind {
	case "", "application":
		hour, unit, unitName = p.ALBHour, p.ALBLCUHour, "LCU"
	case "network":
		hour, unit, unitName = p.NLBHour, p.NLCUHour, "NLCU"
	default:
		return nil, fmt.Errorf("unknown load balancer type %q", kind)
	}
	lines := []Line{
		line(r, 1, "load balancer-month", perMonth(hour), hourly(hour)),
		line(r, 1, unitName+"-month", perMonth(unit),
			fmt.Sprintf("one %s around the clock assumed, %s; traffic adds more", unitName, hourly(unit))),
	}
	if !r.Bool("internal") {
		nodes := float64(len(r.Strings("subnets")) + r.Count("subnetMappings"))
		lines = append(lines, line(r, nodes, "public IPv4-month", perMonth(p.PublicIPv4Hour),
			fmt.Sprintf("one per AZ node of an internet-facing load balancer (more under load), %s", hourly(p.PublicIPv4Hour))))
	}
	return lines, nil
}

func vpcEndpoint(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	kind := r.String("vpcEndpointType")
	if kind == "" || kind == "Gateway" {
		return nil, nil // gateway endpoints (S3, DynamoDB) are free
	}
	if kind != "Interface" {
		return nil, fmt.Errorf("unknown VPC endpoint type %q", kind)
	}
	zones := float64(len(r.Strings("subnetIds")))
	return []Line{line(r, zones, "endpoint AZ-month", perMonth(p.InterfaceEndpointAZHour),
		fmt.Sprintf("%s, one per subnet, %s; data processed per GB is usage", r.String("serviceName"), hourly(p.InterfaceEndpointAZHour)))}, nil
}

func kmsKey(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	detail := "requests are usage"
	if r.Bool("enableKeyRotation") {
		detail = "requests are usage; each of the first two rotations adds a key-month"
	}
	return []Line{line(r, 1, "key-month", p.KMSKeyMonth, detail)}, nil
}

func secret(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	return []Line{line(r, 1, "secret-month", p.SecretMonth, "API calls are usage")}, nil
}

// provisionedTenant is a pool tenant's provisioner invocation: the secret
// the function makes for the tenant (its parameters are standard ones,
// free), billed to the tenant.
func provisionedTenant(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	ev, ok := tenantEvent(r)
	if !ok || ev.SecretName == "" {
		return nil, nil
	}
	l := line(r, 1, "secret-month", p.SecretMonth, "the tenant's secret, made by the provisioner; API calls are usage")
	l.Tenant = ev.Tags["TenantId"]
	return []Line{l}, nil
}

func metricAlarm(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	metrics, highRes := 1.0, r.Number("period") > 0 && r.Number("period") < 60
	if n := r.Count("metricQueries"); n > 0 {
		metrics = 0
		for i := 0; i < n; i++ {
			q := fmt.Sprintf("metricQueries.%d.", i)
			if r.Input(q+"metric") == nil {
				continue // an expression costs nothing, its metrics do
			}
			metrics++
			if period := r.Number(q + "metric.period"); period > 0 && period < 60 {
				highRes = true
			}
		}
	}
	price, resolution := p.AlarmMetricMonth, "standard resolution"
	if highRes {
		price, resolution = p.HighResAlarmMetricMonth, "high resolution"
	}
	return []Line{line(r, metrics, "alarm metric-month", price, resolution)}, nil
}

func compositeAlarm(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	return []Line{line(r, 1, "composite alarm-month", p.CompositeAlarmMonth, "")}, nil
}

func dashboard(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	return []Line{line(r, 1, "dashboard-month", p.DashboardMonth, "an account's first three dashboards are free")}, nil
}

func webACL(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	rules := float64(r.Count("rules"))
	if doc := r.String("ruleJson"); doc != "" {
		var parsed []any
		if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
			return nil, fmt.Errorf("ruleJson is not a JSON list: %w", err)
		}
		rules += float64(len(parsed))
	}
	return []Line{
		line(r, 1, "web ACL-month", p.WAFWebACLMonth, "requests are usage"),
		line(r, rules, "rule-month", p.WAFRuleMonth, "a managed rule group counts as one rule"),
	}, nil
}

func hostedZone(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	return []Line{line(r, 1, "hosted zone-month", p.HostedZoneMonth, "queries are usage")}, nil
}

func ssmParameter(_ *estimator, r plan.Resource, p Region) ([]Line, error) {
	if r.String("tier") != "Advanced" {
		return nil, nil // standard parameters are free
	}
	return []Line{line(r, 1, "advanced parameter-month", p.SSMAdvancedParameterMonth, "API interactions are usage")}, nil
}

// fargateTask is a task definition's size.
type fargateTask struct {
	vcpu, gb float64
	arch     string
}

// taskOf finds the task definition an ARN or family names.
func (e *estimator) taskOf(ref string) (fargateTask, error) {
	family := ref
	if i := strings.LastIndex(family, "task-definition/"); i >= 0 {
		family = family[i+len("task-definition/"):]
	}
	if i := strings.LastIndex(family, ":"); i >= 0 {
		family = family[:i]
	}
	for _, td := range plan.OfType(e.resources, "aws:ecs/taskDefinition:TaskDefinition") {
		if td.String("family") != family {
			continue
		}
		vcpu, err := fargateUnits(td.String("cpu"), "vCPU", 1024)
		if err != nil {
			return fargateTask{}, fmt.Errorf("task definition %s: cpu: %w", family, err)
		}
		gb, err := fargateUnits(td.String("memory"), "GB", 1024)
		if err != nil {
			return fargateTask{}, fmt.Errorf("task definition %s: memory: %w", family, err)
		}
		arch := td.String("runtimePlatform.cpuArchitecture")
		if arch == "" {
			arch = archX86
		}
		return fargateTask{vcpu: vcpu, gb: gb, arch: arch}, nil
	}
	return fargateTask{}, fmt.Errorf("no task definition of family %q in the plan", family)
}

// fargateUnits reads "256" (CPU units, or MiB) or "0.25 vCPU" / "0.5 GB".
func fargateUnits(s, suffix string, perUnit float64) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("not set, and Fargate needs it on the task definition")
	}
	if strings.HasSuffix(strings.ToLower(s), strings.ToLower(suffix)) {
		v, err := strconv.ParseFloat(strings.TrimSpace(s[:len(s)-len(suffix)]), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of %s", s, suffix)
		}
		return v, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v / perUnit, nil
}

// hourlyPrice is a task's on-demand price per hour.
func (t fargateTask) hourlyPrice(p Region) (float64, error) {
	vcpu, ok := p.FargateVCPUHour[t.arch]
	gb, ok2 := p.FargateGBHour[t.arch]
	if !ok || !ok2 {
		return 0, fmt.Errorf("unknown Fargate CPU architecture %q", t.arch)
	}
	return t.vcpu*vcpu + t.gb*gb, nil
}

func (t fargateTask) String() string {
	return fmt.Sprintf("%s vCPU, %s GB, %s", strconv.FormatFloat(t.vcpu, 'f', -1, 64),
		strconv.FormatFloat(t.gb, 'f', -1, 64), t.arch)
}

// Capacity providers Fargate tasks run on.
const (
	onDemand = "FARGATE"
	spot     = "FARGATE_SPOT"
)

// split places count tasks as ECS does with a capacity provider strategy:
// the provider with a base gets that many first, the rest go by weight.
// Weights give fractions of a task: the estimate is the run-rate over many
// placements, not where one task lands.
func split(count float64, strategies []any) (map[string]float64, error) {
	out := map[string]float64{}
	if len(strategies) == 0 {
		out[onDemand] = count
		return out, nil
	}
	type provider struct {
		name         string
		base, weight float64
	}
	var providers []provider
	var weights float64
	for _, item := range strategies {
		s, _ := item.(map[string]any)
		name, _ := s["capacityProvider"].(string)
		if name != onDemand && name != spot {
			return nil, fmt.Errorf("capacity provider %q is not priced: only FARGATE and FARGATE_SPOT are", name)
		}
		base, _ := s["base"].(float64)
		weight, _ := s["weight"].(float64)
		providers = append(providers, provider{name, base, weight})
		weights += weight
	}
	remaining := count
	for _, pr := range providers {
		n := pr.base
		if n > remaining {
			n = remaining
		}
		out[pr.name] += n
		remaining -= n
	}
	if remaining > 0 {
		if weights == 0 && len(providers) > 0 {
			out[providers[0].name] += remaining
			return out, nil
		}
		for _, pr := range providers {
			out[pr.name] += remaining * pr.weight / weights
		}
	}
	return out, nil
}

// defaultStrategy is the cluster's, used by services that name none.
func (e *estimator) defaultStrategy() []any {
	for _, c := range plan.OfType(e.resources, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders") {
		if s, ok := c.Input("defaultCapacityProviderStrategies").([]any); ok {
			return s
		}
	}
	return nil
}

func (e *estimator) strategy(r plan.Resource, prefix string) ([]any, error) {
	strategies, _ := r.Input(prefix + "capacityProviderStrategies").([]any)
	if len(strategies) > 0 {
		return strategies, nil
	}
	switch launchType := r.String(prefix + "launchType"); launchType {
	case "FARGATE":
		return nil, nil
	case "":
		return e.defaultStrategy(), nil
	default:
		return nil, fmt.Errorf("launch type %q is not priced: only Fargate is", launchType)
	}
}

// fargateLines prices quantity units of a task on each capacity provider.
func fargateLines(r plan.Resource, p Region, task fargateTask, placed map[string]float64, unit, detail string, unitHours float64) ([]Line, error) {
	price, err := task.hourlyPrice(p)
	if err != nil {
		return nil, err
	}
	var lines []Line
	for _, provider := range []string{onDemand, spot} {
		n := placed[provider]
		if n == 0 {
			continue
		}
		label, hourPrice, discount := "on-demand", price, ""
		if provider == spot {
			label, hourPrice = "Spot", price*(1-FargateSpotDiscount)
			discount = fmt.Sprintf(", %g %% off on-demand", FargateSpotDiscount*100)
		}
		lines = append(lines, line(r, n, label+" "+unit, hourPrice*unitHours,
			fmt.Sprintf("%s at %s/h%s%s", task, money(round(hourPrice, 6)), discount, detail)))
	}
	return lines, nil
}

func fargateService(e *estimator, r plan.Resource, p Region) ([]Line, error) {
	task, err := e.taskOf(r.String("taskDefinition"))
	if err != nil {
		return nil, err
	}
	strategies, err := e.strategy(r, "")
	if err != nil {
		return nil, err
	}
	placed, err := split(r.Number("desiredCount"), strategies)
	if err != nil {
		return nil, err
	}
	lines, err := fargateLines(r, p, task, placed, "task-month", "; at the desired count, autoscaling adds more", HoursPerMonth)
	if err != nil {
		return nil, err
	}
	up, err := e.awakeOf(ecsKey(r.String("cluster"), r.String("name")))
	if err != nil {
		return nil, fmt.Errorf("sleep schedule of ECS service %s: %w", r.String("name"), err)
	}
	if up.scheduled() {
		// Asleep, a service runs no task.
		for i, l := range lines {
			lines[i] = sleeping(l, up, l.Detail)
		}
	}
	return lines, nil
}

// scheduledTask prices the ECS tasks an EventBridge rule starts: runs per
// month from the rule's schedule, ScheduledTaskMinutes each.
func scheduledTask(e *estimator, r plan.Resource, p Region) ([]Line, error) {
	if r.Input("ecsTarget") == nil {
		return nil, nil // other targets (Lambda, SNS, ...) are priced by usage
	}
	rule, ok := e.ruleOf(r)
	if !ok {
		return nil, fmt.Errorf("no schedule found for the ECS target")
	}
	schedule := rule.String("scheduleExpression")
	runs, err := RunsPerMonth(schedule)
	if err != nil {
		return nil, err
	}
	// A rule the stack's schedule disables runs only while it is enabled:
	// its runs are taken as spread evenly over the week.
	up, err := e.awakeOf(ruleKey(rule.URN))
	if err != nil {
		return nil, fmt.Errorf("sleep schedule of rule %s: %w", rule.Name, err)
	}
	task, err := e.taskOf(r.String("ecsTarget.taskDefinitionArn"))
	if err != nil {
		return nil, err
	}
	strategies, err := e.strategy(r, "ecsTarget.")
	if err != nil {
		return nil, err
	}
	count := r.Number("ecsTarget.taskCount")
	if count == 0 {
		count = 1
	}
	perRun, err := split(count, strategies)
	if err != nil {
		return nil, err
	}
	hours := runs * ScheduledTaskMinutes / 60
	placed := map[string]float64{}
	for provider, n := range perRun {
		placed[provider] = n * hours
	}
	detail := fmt.Sprintf("; %s: %s runs x %g task(s) x %g min assumed", schedule,
		strconv.FormatFloat(round(runs, 1), 'f', -1, 64), count, ScheduledTaskMinutes)
	lines, err := fargateLines(r, p, task, placed, "task-hour", detail, 1)
	if err != nil {
		return nil, err
	}
	if up.scheduled() {
		for i, l := range lines {
			lines[i] = sleeping(l, up, l.Detail)
		}
	}
	return lines, nil
}

// ruleOf finds the rule an event target belongs to: the rule it depends
// on, or the rule named by its rule input.
func (e *estimator) ruleOf(target plan.Resource) (plan.Resource, bool) {
	rules := plan.OfType(e.resources, eventRuleType)
	for _, dep := range target.Dependencies {
		for _, rule := range rules {
			if rule.URN == dep {
				return rule, true
			}
		}
	}
	name := target.String("rule")
	for _, rule := range rules {
		if rule.String("name") == name || rule.ID == name {
			return rule, true
		}
	}
	return plan.Resource{}, false
}
