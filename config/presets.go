package config

import (
	"slices"
	"sort"
)

// anywhere is the whole IPv4 internet.
const anywhere = "0.0.0.0/0"

// defaultDRRegion is the source architecture's DR region. A stack deployed
// there, or one whose backups must stay in its jurisdiction, names its own.
const defaultDRRegion = "us-west-2"

// presets holds the sizing presets of DESIGN.md as one table: the stack
// file's `sizing` picks a row, and each stack-file section overrides fields
// of that row. Whatever differs between dev and prod lives here, nowhere else.
var presets = map[string]Preset{
	"dev": {
		Network: Network{
			CIDR:               "10.10.0.0/16",
			AvailabilityZones:  2,
			NatGateways:        NatInstance,
			InterfaceEndpoints: false,
			FlowLogs:           false,
		},
		Database: Database{
			InstanceClass:        "db.t4g.micro",
			EngineVersion:        "16",
			AllocatedStorage:     20,
			MaxAllocatedStorage:  0,
			MultiAz:              false,
			BackupRetentionDays:  1,
			PerformanceInsights:  false,
			MonitoringInterval:   0,
			LogExports:           false,
			ConnectionOvercommit: 1,
		},
		// The cluster protocol, TLS and an AUTH password in every preset, so
		// that one client configuration works everywhere. Dev runs Valkey
		// Serverless: metered for 100 MB at least, it costs a fraction of the
		// two nodes cluster mode needs (docs/data-contract.md), and its
		// default user takes the same AUTH password. The node fields below
		// are what dev gets with mode: nodes.
		Cache: Cache{
			Mode:                  CacheModeServerless,
			Serverless:            ServerlessCache{EngineVersion: "8", MaxDataStorageGB: 1, MaxECPUPerSecond: 1000},
			NodeType:              "cache.t4g.micro",
			EngineVersion:         "7.1",
			ClusterMode:           true,
			Shards:                1,
			ReplicasPerShard:      1,
			SnapshotRetentionDays: 1,
			ParameterGroup:        ParameterGroupCustom,
		},
		Compute: Compute{
			Capacity:          CapacitySpot,
			DesiredCount:      1,
			ScaleOutFactor:    1,
			ContainerInsights: false,
			Tracing:           false,
			// Dev deploys are quick to check by hand; waiting would make
			// every up as slow as the slowest service's start.
			WaitForSteadyState: false,
		},
		LoadBalancer: LoadBalancer{
			RequireHTTPS:       false,
			DeletionProtection: false,
			AccessLogs:         false,
			WAF:                false,
			WAFRateLimit:       2000,
			AllowedCidrs:       []string{anywhere},
		},
		Logs: Logs{RetentionDays: 7},
		// Weekdays 08:00-20:00 in the region's local time: 60 of the
		// week's 168 hours.
		Schedule:       Schedule{Awake: []AwakeWindow{{Days: "MON-FRI", From: "08:00", To: "20:00"}}},
		DataProtection: DataProtection{Protect: false, BackupPlan: false, MonthlyRetentionDays: 365},
		StaticAssets:   StaticAssets{PriceClass: "PriceClass_100", AccessLogs: false},
		SiloSizing: SiloSizing{
			InstanceClass:       "db.t4g.micro",
			AllocatedStorage:    20,
			SingleAz:            true,
			MaxAllocatedStorage: 100,
		},
		Alarms: Alarms{
			Notify: false, PeriodSeconds: 300, EvaluationPeriods: 2,
			CPUPercent: 80, MemoryPercent: 80, Target5xxCount: 10, LatencyP95Seconds: 2,
			DBCPUPercent: 80, DBFreeStoragePct: 10, DBConnections: 60,
			CacheCPUPercent: 80, CacheMemoryPct: 85, CacheEvictions: 100,
			// Composites page a human once instead of once per alarm; dev
			// pages nobody, and its metric alarms keep their own actions.
			Composite: false,
		},
	},
	"prod": {
		Network: Network{
			CIDR:               "10.20.0.0/16",
			AvailabilityZones:  3,
			NatGateways:        NatOnePerAz,
			InterfaceEndpoints: true,
			FlowLogs:           true,
		},
		Database: Database{
			InstanceClass:        "db.r6g.large",
			EngineVersion:        "16",
			AllocatedStorage:     100,
			MaxAllocatedStorage:  1000,
			MultiAz:              true,
			BackupRetentionDays:  14,
			PerformanceInsights:  true,
			MonitoringInterval:   60,
			LogExports:           true,
			ConnectionOvercommit: 1,
		},
		// Prod keeps node-based Redis OSS: its steady load costs less on
		// nodes than in ECPUs. The serverless fields are what it gets with
		// mode: serverless.
		Cache: Cache{
			Mode:                  CacheModeNodes,
			Serverless:            ServerlessCache{EngineVersion: "8", MaxDataStorageGB: 10, MaxECPUPerSecond: 100000},
			NodeType:              "cache.r7g.large",
			EngineVersion:         "7.1",
			ClusterMode:           true,
			Shards:                3,
			ReplicasPerShard:      1,
			SnapshotRetentionDays: 7,
			ParameterGroup:        ParameterGroupCustom,
		},
		Compute: Compute{
			Capacity:           CapacityBalanced,
			DesiredCount:       2,
			ScaleOutFactor:     4,
			ContainerInsights:  true,
			Tracing:            true,
			WaitForSteadyState: true,
		},
		LoadBalancer: LoadBalancer{
			RequireHTTPS:       true,
			DeletionProtection: true,
			AccessLogs:         true,
			WAF:                true,
			WAFRateLimit:       2000,
			AllowedCidrs:       []string{anywhere},
		},
		Logs:           Logs{RetentionDays: 90},
		DataProtection: DataProtection{Protect: true, BackupPlan: true, DRRegion: defaultDRRegion, MonthlyRetentionDays: 1825, RestoreTesting: true},
		SiloSizing:     SiloSizing{},
		StaticAssets:   StaticAssets{PriceClass: "PriceClass_100", AccessLogs: true},
		Alarms: Alarms{
			Notify: true, PeriodSeconds: 300, EvaluationPeriods: 2,
			CPUPercent: 80, MemoryPercent: 80, Target5xxCount: 10, LatencyP95Seconds: 1,
			DBCPUPercent: 80, DBFreeStoragePct: 10, DBConnections: 400,
			CacheCPUPercent: 80, CacheMemoryPct: 85, CacheEvictions: 100,
			Composite: true,
		},
	},
}

// clone copies a preset with its own slices: decoding the stack file into a
// slice reuses its backing array, which would rewrite the table itself.
func (p Preset) clone() Preset {
	p.LoadBalancer.AllowedCidrs = slices.Clone(p.LoadBalancer.AllowedCidrs)
	p.Schedule.Awake = slices.Clone(p.Schedule.Awake)
	p.Database.Pools = slices.Clone(p.Database.Pools)
	return p
}

// SizingNames lists the presets a stack may choose, sorted.
func SizingNames() []string {
	names := make([]string, 0, len(presets))
	for name := range presets {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
