package config

import (
	"fmt"
	"math/bits"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/saas-platform/saas-platform/internal/imageref"
	"github.com/saas-platform/saas-platform/internal/pgcapacity"
	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// Limits that come from AWS or from the identifiers our values end up in.
const (
	maxStackNameLength   = 24    // keeps <project>-<stack>-... names inside AWS limits
	maxServiceNameLength = 24    // target group names: 32, less Pulumi's 8-character suffix
	maxIdentifierLength  = 63    // RDS instance identifiers and PostgreSQL names
	maxPathsPerRule      = 5     // ALB: condition values per listener rule
	maxRulesPerListener  = 100   // ALB: rules per listener
	maxPriority          = 50000 // ALB: listener rule priorities
	minSubnetMask        = 28    // smallest subnet AWS allows
	maxAvailabilityZones = 6
	minAvailabilityZones = 2
)

var (
	dnsLabel      = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	rdsClass      = regexp.MustCompile(`^db\.[a-z0-9]+\.[a-z0-9]+$`)
	cacheClass    = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)
	pgVersion     = regexp.MustCompile(`^(1[3-9]|[2-9][0-9])(\.[0-9]+)?$`)
	redisVersion  = regexp.MustCompile(`^7(\.[0-9]+)?$`)
	domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`)
	acmArn        = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):[0-9]{12}:certificate/[A-Za-z0-9-]+$`)
	schedule      = regexp.MustCompile(`^(cron\(\S+( \S+){5}\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$`)
)

// Alarms are named <subject>-<metric>: a service's subject is its name, a
// database's and a cache node's start with these prefixes, which service
// names therefore may not (two alarms under one name are two resources
// with one URN, which the engine refuses).
const (
	DatabaseAlarmPrefix = "db-"
	CacheAlarmPrefix    = "redis-"
)

// logRetentionDays are the values CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// monitoringIntervals are the enhanced monitoring intervals RDS accepts.
var monitoringIntervals = []int{0, 1, 5, 10, 15, 30, 60}

// fargateMemory maps each Fargate CPU size to the memory sizes it allows (MiB).
var fargateMemory = map[int][]int{
	256:   {512, 1024, 2048},
	512:   steps(1024, 4096, 1024),
	1024:  steps(2048, 8192, 1024),
	2048:  steps(4096, 16384, 1024),
	4096:  steps(8192, 30720, 1024),
	8192:  steps(16384, 61440, 4096),
	16384: steps(32768, 122880, 8192),
}

func steps(from, to, step int) []int {
	var out []int
	for v := from; v <= to; v += step {
		out = append(out, v)
	}
	return out
}

type validator struct {
	*parser
	stack *Stack
}

func (v *validator) validate(services []serviceEntry, tenants []tenantEntry) {
	s := v.stack
	v.stackName()
	v.additionalRegions()
	v.region(KeyRegion, s.Region, "is required: set it in the stack file (or AWS_REGION), for example ap-northeast-1")
	v.network()
	v.database()
	v.cache()
	v.compute()
	v.loadBalancer()
	v.logs()
	v.dataProtection()
	v.siloSizing()
	v.alarms()
	v.alerts()
	v.domain()
	v.staticAssets()
	v.schedule()
	v.buckets()
	v.services(services)
	v.workloadReferences()
	v.tenants(tenants)
	v.poolCapacity()
	v.onboarding()
}

func (v *validator) stackName() {
	if err := CheckStackName(v.stack.Name); err != nil {
		v.problem("stack name", v.stack.Name, err.Error())
	}
	if t := v.stack.ImageTag; t != "" && !v.secret(v.key(KeyImageTag)) && !imageref.ValidTag(t) {
		v.problem(v.key(KeyImageTag), t, imageref.TagRule)
	}
}

// CheckStackName tells whether name may name a stack: it becomes part of
// AWS resource names and of the stack file's name, Pulumi.<stack>.yaml.
func CheckStackName(name string) error {
	if !dnsLabel.MatchString(name) || len(name) > maxStackNameLength {
		return fmt.Errorf("must be lowercase letters, digits and hyphens, start with a letter and be at most %d characters: it becomes part of AWS resource names",
			maxStackNameLength)
	}
	return nil
}

func (v *validator) network() {
	n := &v.stack.Network
	key := v.key(KeyNetwork)
	zonesOK := n.AvailabilityZones >= minAvailabilityZones && n.AvailabilityZones <= maxAvailabilityZones
	if !zonesOK {
		v.problem(key+".availabilityZones", strconv.Itoa(n.AvailabilityZones),
			fmt.Sprintf("must be between %d and %d", minAvailabilityZones, maxAvailabilityZones))
	}
	if !slices.Contains([]string{NatNone, NatSingle, NatOnePerAz, NatInstance}, n.NatGateways) {
		v.problem(key+".natGateways", n.NatGateways, "must be one of none, single, onePerAz, instance")
	}
	if n.NatGateways == NatNone && !n.InterfaceEndpoints {
		v.problem(key+".natGateways", n.NatGateways,
			"needs network.interfaceEndpoints: true, or tasks in private subnets cannot reach ECR, CloudWatch Logs, SSM or Secrets Manager")
	}

	prefix, err := netip.ParsePrefix(n.CIDR)
	allowed := "must be a private IPv4 network (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16) with a prefix between /16 and /24, such as 10.10.0.0/16"
	if err != nil || !prefix.Addr().Is4() || prefix.Bits() < 16 || prefix.Bits() > 24 || !isPrivate(prefix) {
		v.problem(key+".cidr", n.CIDR, allowed)
		return
	}
	if prefix.Masked() != prefix {
		v.problem(key+".cidr", n.CIDR, fmt.Sprintf("has host bits set: the network address is %s", prefix.Masked()))
		return
	}
	if !zonesOK {
		return
	}
	layout, ok := subnetLayout(prefix.Bits(), n.AvailabilityZones)
	if !ok {
		v.problem(key+".cidr", n.CIDR, fmt.Sprintf(
			"is too small for %d availability zones with public, private and isolated subnets of at least /%d each: use a larger network",
			n.AvailabilityZones, minSubnetMask))
		return
	}
	n.Subnets = layout
}

func isPrivate(p netip.Prefix) bool {
	for _, r := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} {
		private := netip.MustParsePrefix(r)
		if private.Bits() <= p.Bits() && private.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// subnetLayout splits the VPC into one block per AZ and three tiers per
// block: private 1/2, public 1/4, isolated 1/8 (1/8 left free). When the
// network is large enough, the AZ blocks are sized for eight AZs, so that
// adding an AZ later never moves an existing subnet (which would replace it).
func subnetLayout(vpcMask, zones int) (SubnetLayout, bool) {
	azBits := 3
	if vpcMask+azBits+3 > minSubnetMask {
		azBits = bits.Len(uint(zones - 1)) // ceil(log2(zones))
	}
	az := vpcMask + azBits
	l := SubnetLayout{AvailabilityZoneMask: az, PrivateMask: az + 1, PublicMask: az + 2, IsolatedMask: az + 3}
	return l, l.IsolatedMask <= minSubnetMask
}

func (v *validator) database() {
	d := v.stack.Database
	key := v.key(KeyDatabase)
	if !rdsClass.MatchString(d.InstanceClass) {
		v.problem(key+".instanceClass", d.InstanceClass, "must be an RDS instance class such as db.t4g.micro")
	}
	if !pgVersion.MatchString(d.EngineVersion) {
		v.problem(key+".engineVersion", d.EngineVersion, `must be a PostgreSQL version 13 or newer, such as "16" or "16.4"`)
	}
	v.storage(key+".allocatedStorage", d.AllocatedStorage)
	if d.MaxAllocatedStorage != 0 && (d.MaxAllocatedStorage <= d.AllocatedStorage || d.MaxAllocatedStorage > 65536) {
		v.problem(key+".maxAllocatedStorage", strconv.Itoa(d.MaxAllocatedStorage),
			fmt.Sprintf("must be 0 (no storage autoscaling) or more than allocatedStorage (%d) and at most 65536", d.AllocatedStorage))
	}
	if d.BackupRetentionDays < 1 || d.BackupRetentionDays > 35 {
		v.problem(key+".backupRetentionDays", strconv.Itoa(d.BackupRetentionDays), "must be between 1 and 35: backups cannot be turned off")
	}
	if !slices.Contains(monitoringIntervals, d.MonitoringInterval) {
		v.problem(key+".monitoringInterval", strconv.Itoa(d.MonitoringInterval), "must be one of 0 (off), 1, 5, 10, 15, 30, 60")
	}
	v.pools()
}

func (v *validator) storage(key string, gib int) {
	if gib < 20 || gib > 65536 {
		v.problem(key, strconv.Itoa(gib), "must be between 20 and 65536 GiB (gp3)")
	}
}

// Keys of the cache section that shape only one mode. A stack file that
// writes one under the other mode is refused: it would otherwise be
// ignored, and its writer would believe it applied.
var (
	nodeOnlyCacheKeys       = []string{"nodeType", "engineVersion", "clusterMode", "shards", "replicasPerShard", "parameterGroup"}
	serverlessOnlyCacheKeys = []string{"serverless"}
)

// Valkey major versions ElastiCache Serverless runs (7 and 8, as
// DescribeCacheEngineVersions lists them for engine valkey).
var valkeyMajorVersions = []string{"7", "8"}

func (v *validator) cache() {
	c := v.stack.Cache
	key := v.key(KeyCache)
	switch c.Mode {
	case CacheModeNodes:
		v.writtenElsewhere(key, serverlessOnlyCacheKeys, "applies only with cache.mode: serverless; remove it, or set mode: serverless")
		v.nodes()
	case CacheModeServerless:
		v.writtenElsewhere(key, nodeOnlyCacheKeys,
			"applies only with cache.mode: nodes (a serverless cache has no nodes, shards or parameter group, always speaks the cluster protocol (clusterMode: true is accepted), and runs Valkey at cache.serverless.engineVersion); remove it, or set mode: nodes")
		v.serverless()
	default:
		v.problem(key+".mode", c.Mode, "must be nodes (a Redis OSS replication group) or serverless (ElastiCache Serverless, Valkey)")
	}
	if c.SnapshotRetentionDays < 0 || c.SnapshotRetentionDays > 35 {
		v.problem(key+".snapshotRetentionDays", strconv.Itoa(c.SnapshotRetentionDays), "must be between 0 and 35")
	}
}

// writtenElsewhere refuses the keys of the cache section the stack file
// wrote that the current mode does not use.
func (v *validator) writtenElsewhere(key string, keys []string, allowed string) {
	raw, ok := v.values[key]
	if !ok {
		return
	}
	written, err := parseJSON(raw)
	if err != nil {
		return // not an object: the decoder already said so
	}
	section, _ := written.(map[string]any)
	for _, k := range keys {
		value, set := section[k]
		if k == "clusterMode" && value == true {
			// True of a serverless cache too: it always speaks the cluster
			// protocol, so a stack file that says so says nothing wrong.
			continue
		}
		if set && value != nil {
			v.problem(key+"."+k, abbreviate(engineString(value)), allowed)
		}
	}
}

func (v *validator) serverless() {
	c := v.stack.Cache.Serverless
	key := v.key(KeyCache) + ".serverless"
	if !slices.Contains(valkeyMajorVersions, c.EngineVersion) {
		v.problem(key+".engineVersion", c.EngineVersion, `must be a Valkey major version ElastiCache Serverless runs: "7" or "8"`)
	}
	// ElastiCache's bounds for the usage limits (CreateServerlessCache).
	if c.MaxDataStorageGB < 1 || c.MaxDataStorageGB > 5000 {
		v.problem(key+".maxDataStorageGb", strconv.Itoa(c.MaxDataStorageGB), "must be between 1 and 5000 (GB)")
	}
	if c.MaxECPUPerSecond < 1000 || c.MaxECPUPerSecond > 15000000 {
		v.problem(key+".maxEcpuPerSecond", strconv.Itoa(c.MaxECPUPerSecond), "must be between 1000 and 15000000")
	}
}

func (v *validator) nodes() {
	c := v.stack.Cache
	key := v.key(KeyCache)
	if !cacheClass.MatchString(c.NodeType) {
		v.problem(key+".nodeType", c.NodeType, "must be an ElastiCache node type such as cache.t4g.micro")
	}
	if !redisVersion.MatchString(c.EngineVersion) {
		v.problem(key+".engineVersion", c.EngineVersion, `must be a Redis 7 version, such as "7.1"`)
	}
	if c.Shards < 1 || c.Shards > 500 {
		v.problem(key+".shards", strconv.Itoa(c.Shards), "must be between 1 and 500")
	} else if !c.ClusterMode && c.Shards != 1 {
		v.problem(key+".shards", strconv.Itoa(c.Shards), "must be 1 unless cache.clusterMode is true")
	}
	if c.ReplicasPerShard < 0 || c.ReplicasPerShard > 5 {
		v.problem(key+".replicasPerShard", strconv.Itoa(c.ReplicasPerShard), "must be between 0 and 5")
	} else if c.ClusterMode && c.ReplicasPerShard < 1 {
		v.problem(key+".replicasPerShard", strconv.Itoa(c.ReplicasPerShard),
			"must be at least 1 with cache.clusterMode: cluster mode needs automatic failover, which needs a replica")
	}
	if c.ParameterGroup != ParameterGroupCustom && c.ParameterGroup != ParameterGroupDefault {
		v.problem(key+".parameterGroup", c.ParameterGroup, "must be custom (the program's own group) or default (AWS's default group)")
	}
}

func (v *validator) compute() {
	c := v.stack.Compute
	key := v.key(KeyCompute)
	v.capacity(key+".capacity", c.Capacity)
	if c.DesiredCount < 1 || c.DesiredCount > 100 {
		v.problem(key+".desiredCount", strconv.Itoa(c.DesiredCount), "must be between 1 and 100")
	}
	if c.ScaleOutFactor < 1 || c.ScaleOutFactor > 20 {
		v.problem(key+".scaleOutFactor", strconv.Itoa(c.ScaleOutFactor), "must be between 1 (no autoscaling) and 20")
	}
}

func (v *validator) capacity(key, value string) {
	if !slices.Contains([]string{CapacityOnDemand, CapacitySpot, CapacityBalanced}, value) {
		v.problem(key, value, "must be one of onDemand, spot, balanced")
	}
}

func (v *validator) loadBalancer() {
	lb := v.stack.LoadBalancer
	if lb.WAFRateLimit < 100 || lb.WAFRateLimit > 2000000000 {
		v.problem(v.key(KeyLoadBalancer)+".wafRateLimit", strconv.Itoa(lb.WAFRateLimit), "must be between 100 and 2000000000 requests per 5 minutes")
	}
	if lb.RequireHTTPS && !v.stack.Domain.HTTPS() {
		v.problem(v.key(KeyDomain)+".certificateArn", "", fmt.Sprintf(
			"is required: loadBalancer.requireHttps is on (the %s preset turns it on), so the load balancer needs an ACM certificate to serve HTTPS: "+
				"set domain.certificateArn, or domain.zone for the program to request one", v.stack.Sizing))
	}
	if len(lb.AllowedCidrs) == 0 {
		v.problem(v.key(KeyLoadBalancer)+".allowedCidrs", "[]", "must list at least one IPv4 range, such as 0.0.0.0/0 (everyone) or 203.0.113.0/24")
	}
	seen := map[string]int{}
	for i, cidr := range lb.AllowedCidrs {
		prefix, err := netip.ParsePrefix(cidr)
		first, dup := seen[cidr]
		seen[cidr] = i
		switch {
		case dup:
			// Each range becomes security group rules named after it.
			v.problem(fmt.Sprintf("%s.allowedCidrs[%d]", v.key(KeyLoadBalancer), i), cidr, fmt.Sprintf(
				"is already listed as allowedCidrs[%d]: each range is listed once (its security group rules are named after it)", first))
		case err != nil || !prefix.Addr().Is4():
			v.problem(fmt.Sprintf("%s.allowedCidrs[%d]", v.key(KeyLoadBalancer), i), cidr, "must be an IPv4 range such as 203.0.113.0/24")
		case prefix.Masked() != prefix:
			v.problem(fmt.Sprintf("%s.allowedCidrs[%d]", v.key(KeyLoadBalancer), i), cidr, fmt.Sprintf("has host bits set: the range is %s", prefix.Masked()))
		case v.stack.Network.Subnets != (SubnetLayout{}) && netip.MustParsePrefix(v.stack.Network.CIDR).Contains(prefix.Addr()) &&
			prefix.Bits() >= netip.MustParsePrefix(v.stack.Network.CIDR).Bits():
			v.problem(fmt.Sprintf("%s.allowedCidrs[%d]", v.key(KeyLoadBalancer), i), cidr, fmt.Sprintf(
				"is inside the stack's own network (%s): the load balancer never admits the VPC; services call each other at ${services.<name>.url}, inside the VPC",
				v.stack.Network.CIDR))
		}
	}
	if v.stack.Network.Subnets != (SubnetLayout{}) {
		if n := len(LoadBalancerSources(lb.AllowedCidrs, v.stack.Network.CIDR)); n > MaxLoadBalancerSources {
			v.problem(v.key(KeyLoadBalancer)+".allowedCidrs", strings.Join(lb.AllowedCidrs, ","), fmt.Sprintf(
				"become %d ranges once the VPC's own range is taken out: at most %d fit the load balancer's security group (two rules each); list fewer or narrower ranges",
				n, MaxLoadBalancerSources))
		}
	}
}

func (v *validator) logs() {
	days := v.stack.Logs.RetentionDays
	if !slices.Contains(logRetentionDays, days) {
		v.problem(v.key(KeyLogs)+".retentionDays", strconv.Itoa(days), "must be a CloudWatch Logs retention: "+joinInts(logRetentionDays))
	}
}

// Monthly backups are kept at least as long as the weekly ones (90 days),
// and at most AWS Backup's limit of 100 years.
const (
	minMonthlyRetentionDays = 90
	maxMonthlyRetentionDays = 36500
)

func (v *validator) dataProtection() {
	d := v.stack.DataProtection
	key := v.key(KeyDataProtection)
	if d.DR() {
		switch {
		case !regionPattern.MatchString(d.DRRegion):
			v.problem(key+".drRegion", d.DRRegion, `must be an AWS region such as us-west-2, or "" to keep backups in the stack's region only`)
		case !slices.Contains(knownRegions, d.DRRegion) && !slices.Contains(v.stack.AdditionalRegions, d.DRRegion):
			v.region(key+".drRegion", d.DRRegion, "")
		case d.DRRegion == v.stack.Region:
			v.problem(key+".drRegion", d.DRRegion, `is the stack's own region (aws:region): disaster-recovery copies must go to another region, such as us-east-2, or set it to "" for none`)
		case partition(d.DRRegion) != partition(v.stack.Region):
			v.problem(key+".drRegion", d.DRRegion, fmt.Sprintf(
				"is in another AWS partition than the stack's region %s: AWS Backup copies only within a partition", v.stack.Region))
		case !d.BackupPlan:
			v.problem(key+".drRegion", d.DRRegion, "needs dataProtection.backupPlan: true: the DR region receives copies of the backup plan's backups")
		}
	}
	if d.MonthlyRetentionDays < minMonthlyRetentionDays || d.MonthlyRetentionDays > maxMonthlyRetentionDays {
		v.problem(key+".monthlyRetentionDays", strconv.Itoa(d.MonthlyRetentionDays), fmt.Sprintf(
			"must be between %d (the weekly backups' retention) and %d days (AWS Backup's limit), such as 1825 for five years",
			minMonthlyRetentionDays, maxMonthlyRetentionDays))
	}
	if d.RestoreTesting && !d.BackupPlan {
		v.problem(key+".restoreTesting", "true", "needs dataProtection.backupPlan: true: restore tests restore the backup plan's recovery points")
	}
}

// partition names the AWS partition of a region: aws, aws-cn or aws-us-gov.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

func (v *validator) siloSizing() {
	s := v.stack.SiloSizing
	key := v.key(KeySiloSizing)
	if s.InstanceClass != "" && !rdsClass.MatchString(s.InstanceClass) {
		v.problem(key+".instanceClass", s.InstanceClass, "must be empty (the plan's class) or an RDS instance class such as db.t4g.micro")
	}
	if s.AllocatedStorage != 0 {
		v.storage(key+".allocatedStorage", s.AllocatedStorage)
	}
	if s.MaxAllocatedStorage == 0 {
		return
	}
	// Storage autoscaling needs room above the storage an instance starts
	// with: the cap must leave some for every silo plan it applies to.
	for _, name := range PlanNames() {
		db := s.siloDatabase(plans[name])
		if plans[name].Isolation == Silo && (db.MaxAllocatedStorage <= db.AllocatedStorage || s.MaxAllocatedStorage > 65536) {
			v.problem(key+".maxAllocatedStorage", strconv.Itoa(s.MaxAllocatedStorage), fmt.Sprintf(
				"must be 0 (each plan's own limit) or more than the storage every silo plan starts with (%s: %d GiB) and at most 65536",
				name, db.AllocatedStorage))
			return
		}
	}
}

func (v *validator) alarms() {
	a := v.stack.Alarms
	key := v.key(KeyAlarms)
	if a.PeriodSeconds < 60 || a.PeriodSeconds%60 != 0 {
		v.problem(key+".periodSeconds", strconv.Itoa(a.PeriodSeconds), "must be a multiple of 60, such as 300")
	}
	if a.EvaluationPeriods < 1 || a.EvaluationPeriods > 24 {
		v.problem(key+".evaluationPeriods", strconv.Itoa(a.EvaluationPeriods), "must be between 1 and 24")
	}
	for name, pct := range map[string]float64{
		"cpuPercent": a.CPUPercent, "memoryPercent": a.MemoryPercent, "dbCpuPercent": a.DBCPUPercent,
		"dbFreeStoragePercent": a.DBFreeStoragePct, "cacheCpuPercent": a.CacheCPUPercent, "cacheMemoryPercent": a.CacheMemoryPct,
	} {
		if pct <= 0 || pct > 100 {
			v.problem(key+"."+name, strconv.FormatFloat(pct, 'g', -1, 64), "must be a percentage above 0 and at most 100")
		}
	}
	for name, n := range map[string]float64{
		"target5xxCount": a.Target5xxCount, "latencyP95Seconds": a.LatencyP95Seconds,
		"dbConnections": a.DBConnections, "cacheEvictions": a.CacheEvictions,
	} {
		if n <= 0 {
			v.problem(key+"."+name, strconv.FormatFloat(n, 'g', -1, 64), "must be above 0")
		}
	}
}

func (v *validator) alerts() {
	seen := map[string]int{}
	for i, email := range v.stack.Alerts.Emails {
		key := fmt.Sprintf("%s.emails[%d]", v.key(KeyAlerts), i)
		first, dup := seen[strings.ToLower(email)]
		seen[strings.ToLower(email)] = i
		switch {
		case !ValidEmail(email):
			v.problem(key, email, EmailRule)
		case dup:
			v.problem(key, email, fmt.Sprintf("is already listed as emails[%d]", first))
		}
	}
}

func (v *validator) domain() {
	d := v.stack.Domain
	key := v.key(KeyDomain)
	if d.Name != "" && (!domainPattern.MatchString(d.Name) || len(d.Name) > 253) {
		v.problem(key+".name", d.Name, "must be a lowercase DNS name such as app.example.com")
	}
	switch {
	case d.Zone != "" && (!domainPattern.MatchString(d.Zone) || len(d.Zone) > 253):
		v.problem(key+".zone", d.Zone, "must be a lowercase DNS name such as example.com: the Route 53 hosted zone")
	case d.Zone != "" && d.Name == "":
		v.problem(key+".name", "", "is required with domain.zone: the name the load balancer answers at, such as app."+d.Zone)
	case d.Zone != "" && !within(d.Name, d.Zone):
		v.problem(key+".name", d.Name, "must be in domain.zone, "+d.Zone)
	case d.CreateZone && d.Zone == "":
		v.problem(key+".createZone", "true", "needs domain.zone: the zone to create")
	}
	if d.CertificateArn == "" {
		return
	}
	m := acmArn.FindStringSubmatch(d.CertificateArn)
	switch {
	case m == nil:
		v.problem(key+".certificateArn", d.CertificateArn, "must be an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<id>")
	case m[1] != v.stack.Region:
		v.problem(key+".certificateArn", d.CertificateArn, fmt.Sprintf(
			"is in %s: a load balancer certificate must be in the stack's region, %s", m[1], v.stack.Region))
	}
}

func (v *validator) services(entries []serviceEntry) {
	seenNames := map[string]int{}
	seenPriorities := map[int]string{}
	routed := 0
	for i, e := range entries {
		key := fmt.Sprintf("%s[%d]", v.key(KeyServices), i)
		s := v.resolveService(e)
		if !dnsLabel.MatchString(s.Name) || len(s.Name) > maxServiceNameLength {
			v.problem(key+".name", s.Name, fmt.Sprintf(
				"must be DNS-safe: lowercase letters, digits and hyphens, starting with a letter, at most %d characters", maxServiceNameLength))
		} else if prefix, taken := reservedServicePrefix(s.Name); taken {
			v.problem(key+".name", s.Name, fmt.Sprintf(
				"starts with %s, which the program's own alarms use (%s<instance>-cpu, %s<node>-cpu): choose another name", prefix, DatabaseAlarmPrefix, CacheAlarmPrefix))
		} else if first, dup := seenNames[s.Name]; dup {
			v.problem(key+".name", s.Name, fmt.Sprintf("is already used by %s[%d]: service names must be unique", v.key(KeyServices), first))
		} else {
			seenNames[s.Name] = i
		}
		key = v.serviceKey(i, s.Name)
		v.serviceShape(key, s)
		v.workloadShape(key, s, e.workloadEntry)
		v.databaseConnections(key, s, e.DatabaseConnections != nil)
		if s.Routed() {
			routed++
			v.route(key, s, seenPriorities)
		}
		v.stack.Services = append(v.stack.Services, s)
	}
	if routed > maxRulesPerListener {
		v.problem(v.key(KeyServices), strconv.Itoa(routed), fmt.Sprintf("routed services are too many: a listener takes at most %d rules", maxRulesPerListener))
	}
}

// serviceKey is the key path of a service entry: its index, and its name
// when the name is one (so that a message never echoes a hostile name
// outside quotes).
func (v *validator) serviceKey(i int, name string) string {
	key := fmt.Sprintf("%s[%d]", v.key(KeyServices), i)
	if dnsLabel.MatchString(name) {
		key = fmt.Sprintf("%s (service %s)", key, name)
	}
	return key
}

func reservedServicePrefix(name string) (string, bool) {
	for _, prefix := range []string{DatabaseAlarmPrefix, CacheAlarmPrefix} {
		if strings.HasPrefix(name, prefix) {
			return prefix, true
		}
	}
	return "", false
}

// resolveService fills in what the stack file left out, from the preset.
func (v *validator) resolveService(e serviceEntry) Service {
	c := v.stack.Compute
	s := Service{
		Name: e.Name, Image: e.Image, Port: e.Port, CPU: 256, Memory: 512,
		HealthCheckPath: e.HealthCheckPath, Paths: e.Paths, Hosts: e.Hosts, Priority: e.Priority,
		Capacity: e.Capacity, Schedule: e.Schedule, WebSockets: e.WebSockets,
		ContainerHealthCheck:   e.ContainerHealthCheck == nil || *e.ContainerHealthCheck,
		ReadOnlyRootFilesystem: e.ReadOnlyRootFilesystem == nil || *e.ReadOnlyRootFilesystem,
		ExecuteCommand:         e.ExecuteCommand,
	}
	if s.Capacity == "" {
		s.Capacity = c.Capacity
	}
	if e.CPU != nil {
		s.CPU = *e.CPU
	}
	if e.Memory != nil {
		s.Memory = *e.Memory
	}
	// An unset desiredCount follows the preset, kept inside any given bounds;
	// a scheduled task runs one task per run unless it says otherwise.
	s.DesiredCount = c.DesiredCount
	if e.Schedule != "" {
		s.DesiredCount = 1
	}
	if e.DesiredCount != nil {
		s.DesiredCount = *e.DesiredCount
	} else {
		if e.MinCount != nil && s.DesiredCount < *e.MinCount {
			s.DesiredCount = *e.MinCount
		}
		if e.MaxCount != nil && s.DesiredCount > *e.MaxCount {
			s.DesiredCount = *e.MaxCount
		}
	}
	s.MinCount = s.DesiredCount
	if e.MinCount != nil {
		s.MinCount = *e.MinCount
	}
	s.MaxCount = max(s.DesiredCount*c.ScaleOutFactor, s.MinCount)
	if e.MaxCount != nil {
		s.MaxCount = *e.MaxCount
	}
	if s.Scheduled() {
		s.MinCount, s.MaxCount = s.DesiredCount, s.DesiredCount
	}
	v.resolveWorkload(&s, e.workloadEntry)
	s.DatabaseConnections = pgcapacity.DefaultServiceConnections
	if e.DatabaseConnections != nil {
		s.DatabaseConnections = *e.DatabaseConnections
	}
	return s
}

func (v *validator) serviceShape(key string, s Service) {
	if s.Port < 1 || s.Port > 65535 {
		if s.Port != 0 || !s.Scheduled() {
			v.problem(key+".port", strconv.Itoa(s.Port), "must be between 1 and 65535")
		}
	}
	if mem, ok := fargateMemory[s.CPU]; !ok {
		v.problem(key+".cpu", strconv.Itoa(s.CPU), "must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384")
	} else if !slices.Contains(mem, s.Memory) {
		v.problem(key+".memory", strconv.Itoa(s.Memory), fmt.Sprintf("is not a valid Fargate pair with cpu %d: memory must be one of %s", s.CPU, joinInts(mem)))
	}
	v.capacity(key+".capacity", s.Capacity)
	if s.Image != "" && !ValidImage(s.Image) {
		v.problem(key+".image", s.Image, ImageRule)
	}
	if s.HealthCheckPath != "" && !ValidHealthCheckPath(s.HealthCheckPath) {
		v.problem(key+".healthCheckPath", s.HealthCheckPath, HealthCheckPathRule)
	}
	if s.Scheduled() {
		if !schedule.MatchString(s.Schedule) {
			v.problem(key+".schedule", s.Schedule, `must be an EventBridge schedule: "cron(m h dom mon dow year)" or "rate(N minutes|hours|days)"`)
		}
		if s.Routed() {
			v.problem(key+".paths", strings.Join(s.Paths, ","), "must be empty for a scheduled task: it runs to completion and takes no traffic")
		}
		if s.DesiredCount < 1 || s.DesiredCount > 10 {
			v.problem(key+".desiredCount", strconv.Itoa(s.DesiredCount), "must be between 1 and 10 tasks per scheduled run")
		}
		return
	}
	if s.MinCount < 0 || s.MaxCount > 1000 || s.MinCount > s.MaxCount {
		v.problem(key+".minCount", fmt.Sprintf("%d..%d", s.MinCount, s.MaxCount), "must satisfy 0 <= minCount <= maxCount <= 1000")
	} else if s.DesiredCount < s.MinCount || s.DesiredCount > s.MaxCount {
		v.problem(key+".desiredCount", strconv.Itoa(s.DesiredCount), fmt.Sprintf("must be between minCount (%d) and maxCount (%d)", s.MinCount, s.MaxCount))
	}
	if s.ExecuteCommand && s.ReadOnlyRootFilesystem {
		v.problem(key+".executeCommand", "true", "needs readOnlyRootFilesystem: false: the ECS Exec agent writes to the root filesystem")
	}
	if s.WebSockets && !s.Routed() {
		v.problem(key+".websockets", "true", "needs paths: only a routed service receives WebSocket connections")
	}
}

func (v *validator) route(key string, s Service, seen map[int]string) {
	if n := len(s.Paths) + len(s.Hosts); n > maxPathsPerRule {
		v.problem(key+".paths", strings.Join(append(append([]string{}, s.Paths...), s.Hosts...), ","), fmt.Sprintf(
			"has %d paths and hosts: a listener rule takes at most %d condition values", n, maxPathsPerRule))
	}
	for _, h := range s.Hosts {
		v.host(key+".hosts", h)
	}
	seenHosts := map[string]bool{}
	for _, h := range s.Hosts {
		switch {
		case seenHosts[h]:
			v.problem(key+".hosts", h, "is listed twice")
		case h == v.stack.StaticAssets.Host:
			v.problem(key+".hosts", h, "is staticAssets.host, which CloudFront answers: give the service another host")
		}
		seenHosts[h] = true
	}
	seenPaths := map[string]bool{}
	for _, p := range s.Paths {
		switch {
		case !pathPattern.MatchString(p) || len(p) > 128:
			v.problem(key+".paths", p, "must be a path pattern starting with / and at most 128 characters of letters, digits and - . _ ~ / * ? & = % + : @, such as /api/*")
		case seenPaths[p]:
			v.problem(key+".paths", p, "is listed twice")
		}
		seenPaths[p] = true
	}
	switch other, dup := seen[s.Priority]; {
	case s.Priority < 1 || s.Priority > maxPriority:
		v.problem(key+".priority", strconv.Itoa(s.Priority), fmt.Sprintf("must be between 1 and %d for a routed service", maxPriority))
	case dup:
		v.problem(key+".priority", strconv.Itoa(s.Priority), fmt.Sprintf("is already used by service %s: listener rule priorities must be unique", other))
	default:
		seen[s.Priority] = s.Name
	}
	if s.HealthCheckPath == "" {
		v.problem(key+".healthCheckPath", "", "is required for a routed service: "+HealthCheckPathRule)
	}
}

// host checks a name the load balancer or CloudFront answers at: it must be
// in the environment's domain, where the program can point DNS at it and
// its certificate can cover it.
func (v *validator) host(key, host string) {
	d := v.stack.Domain
	base := d.Zone
	if base == "" {
		if _, parent, ok := strings.Cut(d.Name, "."); ok {
			base = parent
		}
	}
	switch {
	case !domainPattern.MatchString(host) || len(host) > 253:
		v.problem(key, host, "must be a lowercase DNS name such as admin.example.com")
	case base == "":
		v.problem(key, host, "needs domain.name (and domain.zone): the domain the host belongs to")
	case !within(host, base):
		v.problem(key, host, "is outside the environment's domain, "+base)
	}
}

// within reports whether name is zone or a name inside it.
func within(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// priceClasses are CloudFront's price classes.
var priceClasses = []string{"PriceClass_100", "PriceClass_200", "PriceClass_All"}

func (v *validator) staticAssets() {
	a := v.stack.StaticAssets
	key := v.key(KeyStaticAssets)
	if !slices.Contains(priceClasses, a.PriceClass) {
		v.problem(key+".priceClass", a.PriceClass, "must be one of "+strings.Join(priceClasses, ", "))
	}
	if a.Host == "" {
		return
	}
	if v.stack.Domain.Zone == "" {
		v.problem(key+".host", a.Host, "needs domain.zone: the program points DNS at CloudFront and validates its certificate there")
		return
	}
	v.host(key+".host", a.Host)
	if a.Host == v.stack.Domain.Name {
		v.problem(key+".host", a.Host, "is the load balancer's name: give static assets a host of their own, such as static."+v.stack.Domain.Zone)
	}
}

func (v *validator) tenants(entries []tenantEntry) {
	seen := map[string]int{}
	maxLen := v.stack.MaxTenantIDLength()
	for i, e := range entries {
		key := fmt.Sprintf("%s[%d]", v.key(KeyTenants), i)
		idErr := tenantid.Check(e.ID)
		switch first, dup := seen[e.ID]; {
		case idErr != nil:
			v.problem(key+".id", e.ID, idErr.Error())
		case len(e.ID) > maxLen:
			v.problem(key+".id", e.ID, fmt.Sprintf(
				"is %d characters: at most %d fit in this stack's tenant instance identifier %s-%s-<id> (63 characters)",
				len(e.ID), maxLen, v.stack.Project, v.stack.Name))
		case dup:
			v.problem(key+".id", e.ID, fmt.Sprintf("is already used by %s[%d]: tenant ids must be unique", v.key(KeyTenants), first))
		default:
			seen[e.ID] = i
		}
		onRemove := e.OnRemove
		if onRemove == "" {
			onRemove = OnRemoveKeep
		}
		if onRemove != OnRemoveKeep && onRemove != OnRemoveDrop {
			v.problem(key+".onRemove", e.OnRemove, "must be keep (the default: data survives removal) or drop")
		}
		plan, ok := plans[e.Plan]
		if !ok {
			v.problem(key+".plan", e.Plan, "must be one of "+strings.Join(PlanNames(), ", "))
			continue
		}
		v.stack.Tenants = append(v.stack.Tenants, Tenant{
			ID:       e.ID,
			Plan:     plan,
			OnRemove: onRemove,
			Database: v.stack.SiloSizing.siloDatabase(plan),
			Pool:     v.tenantPool(key, e, plan),
		})
	}
}

func joinInts(values []int) string {
	s := make([]string, len(values))
	for i, n := range values {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
