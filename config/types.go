// Package config owns the typed stack configuration of saas-platform: the
// shape of the stack file, the dev and prod sizing presets, the tenant plans,
// the merge of stack-file values over a preset, and the validation that runs
// before any resource is registered. Components never read configuration
// themselves; they are handed the values resolved here.
package config

// Stack is the resolved configuration of one stack (one environment): the
// preset chosen by `sizing`, with the stack file's values merged over it.
type Stack struct {
	Project string // Pulumi project name, the config namespace
	Name    string // stack name, used as the environment name
	Region  string // aws:region
	Sizing  string // name of the preset the stack started from

	// Provider carries the stack file's other aws:* settings to the AWS
	// provider that manages every resource.
	Provider ProviderSettings

	Preset

	ImageTag string // tag of images pulled from the services' own repositories
	Alerts   Alerts // who is told when something breaks
	Domain   Domain // optional public name and TLS certificate
	Services []Service
	Tenants  []Tenant
	Buckets  []Bucket // storage the stack owns for its services
	// Onboarding is the run-time onboarding API; off without callers.
	Onboarding Onboarding
	// AdditionalRegions are regions the stack file allows besides those
	// the pinned AWS provider knows.
	AdditionalRegions []string
}

// Preset is everything a sizing preset decides. Every field can be
// overridden by the stack file section of the same name.
type Preset struct {
	Network        Network
	Database       Database
	Cache          Cache
	Compute        Compute
	LoadBalancer   LoadBalancer
	Logs           Logs
	DataProtection DataProtection
	SiloSizing     SiloSizing
	Alarms         Alarms
	StaticAssets   StaticAssets
	// Schedule is when the stack is awake; the dev preset sleeps outside
	// working hours, prod never unless its stack file asks.
	Schedule Schedule
}

// NAT layouts, as written in the stack file.
const (
	NatNone     = "none"
	NatSingle   = "single"
	NatOnePerAz = "onePerAz"
	// NatInstance is one small EC2 instance doing NAT for every private
	// subnet: a few dollars a month instead of a NAT gateway's forty-odd,
	// for less bandwidth and a minute or two without egress if it fails.
	NatInstance = "instance"
)

// Network is the `network` section: the VPC and what surrounds it.
type Network struct {
	CIDR               string `json:"cidr"`
	AvailabilityZones  int    `json:"availabilityZones"`
	NatGateways        string `json:"natGateways"`
	InterfaceEndpoints bool   `json:"interfaceEndpoints"`
	FlowLogs           bool   `json:"flowLogs"`

	// Subnets is derived from CIDR and AvailabilityZones during validation.
	Subnets SubnetLayout `json:"-"`
}

// SubnetLayout gives the prefix lengths of the per-AZ block and of the three
// subnet tiers inside it, as awsx's Auto subnet strategy allocates them.
type SubnetLayout struct {
	AvailabilityZoneMask int
	PrivateMask          int
	PublicMask           int
	IsolatedMask         int
}

// Database is the `database` section: the shared PostgreSQL instance.
type Database struct {
	InstanceClass       string `json:"instanceClass"`
	EngineVersion       string `json:"engineVersion"`
	AllocatedStorage    int    `json:"allocatedStorage"`    // GiB, gp3
	MaxAllocatedStorage int    `json:"maxAllocatedStorage"` // GiB; 0 turns storage autoscaling off
	MultiAz             bool   `json:"multiAz"`
	BackupRetentionDays int    `json:"backupRetentionDays"`
	PerformanceInsights bool   `json:"performanceInsights"`
	MonitoringInterval  int    `json:"monitoringInterval"` // enhanced monitoring, seconds; 0 is off
	LogExports          bool   `json:"logExports"`         // the postgresql log to CloudWatch Logs
	// ConnectionOvercommit lets the pool tenants of an instance have
	// connection limits adding up to this many times what the instance
	// leaves them (1 to 10, default 1): for tenants that never open all
	// their connections at once.
	ConnectionOvercommit float64 `json:"connectionOvercommit"`
	// Pools are more shared instances for pool tenants (shards), each
	// built exactly as the shared one, with its own class and storage.
	Pools []DatabasePool `json:"pools"`
}

// SharedPool is the pool name of the shared instance: the pool of every
// pool tenant that names none.
const SharedPool = "shared"

// DatabasePool is an entry of database.pools. What it leaves out is the shared
// instance's: the database section's class and storage.
type DatabasePool struct {
	Name                string `json:"name"`
	InstanceClass       string `json:"instanceClass"`
	AllocatedStorage    int    `json:"allocatedStorage"`    // GiB
	MaxAllocatedStorage int    `json:"maxAllocatedStorage"` // GiB; storage autoscaling's limit
}

// Cache is the `cache` section: the Redis replication group (mode nodes)
// or an ElastiCache Serverless Valkey cache (mode serverless). Both speak
// the cluster protocol with TLS and take the same AUTH password, so one
// client configuration works against either (docs/data-contract.md).
type Cache struct {
	// Mode is nodes (a Redis OSS replication group: nodeType, shards,
	// replicasPerShard, parameterGroup, clusterMode, engineVersion) or
	// serverless (the serverless section).
	Mode string `json:"mode"`
	// Serverless sizes the serverless cache; only with mode serverless.
	Serverless ServerlessCache `json:"serverless"`

	NodeType              string `json:"nodeType"`
	EngineVersion         string `json:"engineVersion"`
	ClusterMode           bool   `json:"clusterMode"`
	Shards                int    `json:"shards"`
	ReplicasPerShard      int    `json:"replicasPerShard"`
	SnapshotRetentionDays int    `json:"snapshotRetentionDays"`
	// ParameterGroup is "custom" (the default: the program's own group) or
	// "default", AWS's default group for the engine and cluster mode, for
	// emulators that implement no parameter groups.
	ParameterGroup string `json:"parameterGroup"`
	// AcceptReplacement lets one deployment replace the deployed cache when
	// a change (mode, or clusterMode of nodes) cannot be made in place. A cache holds nothing
	// that cannot be rebuilt, but the replacement empties it, so it is a
	// step someone takes on purpose: set it for that deployment, remove it
	// after. A protected stack refuses the replacement even with it.
	AcceptReplacement bool `json:"acceptReplacement"`
}

// Cache modes.
const (
	CacheModeNodes      = "nodes"
	CacheModeServerless = "serverless"
)

// IsServerless reports whether the cache is ElastiCache Serverless.
func (c Cache) IsServerless() bool { return c.Mode == CacheModeServerless }

// ServerlessCache is cache.serverless: the engine's major version and the
// usage limits, which cap what a runaway client can make the cache grow to
// and bill (data stored is billed per GB-hour, ECPUs per million).
type ServerlessCache struct {
	// EngineVersion is Valkey's major version.
	EngineVersion    string `json:"engineVersion"`
	MaxDataStorageGB int    `json:"maxDataStorageGb"`
	MaxECPUPerSecond int    `json:"maxEcpuPerSecond"`
}

// Parameter groups a cache may use.
const (
	ParameterGroupCustom  = "custom"
	ParameterGroupDefault = "default"
)

// Capacity settings a service may ask for.
const (
	CapacityOnDemand = "onDemand"
	CapacitySpot     = "spot"
	CapacityBalanced = "balanced"
)

// Compute is the `compute` section: defaults for every service.
type Compute struct {
	Capacity          string `json:"capacity"`          // default capacity setting of a service
	DesiredCount      int    `json:"desiredCount"`      // default tasks per service
	ScaleOutFactor    int    `json:"scaleOutFactor"`    // default maxCount = desiredCount x this; 1 means no autoscaling
	ContainerInsights bool   `json:"containerInsights"` // ECS Container Insights on the cluster
	// Tracing is the default of every service's tracing: an OpenTelemetry
	// collector sidecar exporting to X-Ray.
	Tracing bool `json:"tracing"`
	// WaitForSteadyState makes `pulumi up` wait for each service's
	// deployment to finish, so that a deployment ECS rolls back fails the
	// update instead of reporting success.
	WaitForSteadyState bool `json:"waitForSteadyState"`
}

// LoadBalancer is the `loadBalancer` section.
type LoadBalancer struct {
	RequireHTTPS       bool `json:"requireHttps"` // refuse a stack without a certificate
	DeletionProtection bool `json:"deletionProtection"`
	AccessLogs         bool `json:"accessLogs"`
	WAF                bool `json:"waf"`
	WAFRateLimit       int  `json:"wafRateLimit"` // requests per 5 minutes per IP
	// AllowedCidrs may reach the load balancer on 80 and 443.
	AllowedCidrs []string `json:"allowedCidrs"`
	// Internal puts the load balancer in the private subnets, reachable
	// only from the VPC and what is peered or connected to it.
	Internal bool `json:"internal"`
}

// Logs is the `logs` section.
type Logs struct {
	RetentionDays int `json:"retentionDays"`
}

// DataProtection is the `dataProtection` section. Protect turns on, for
// every stateful resource: deletion protection, a final snapshot, Pulumi
// `protect`, and retain-on-delete for tenant databases. BackupPlan puts the
// databases under an AWS Backup plan (daily, weekly, monthly).
type DataProtection struct {
	Protect    bool `json:"protect"`
	BackupPlan bool `json:"backupPlan"`
	// DRRegion receives a copy of every backup, in a vault encrypted with a
	// key of its own there, so that losing the stack's region loses no
	// backup. Empty: backups stay in the stack's region.
	DRRegion string `json:"drRegion"`
	// MonthlyRetentionDays is how long the monthly backups, and their DR
	// copies, are kept.
	MonthlyRetentionDays int `json:"monthlyRetentionDays"`
	// RestoreTesting restores the latest backup of every database once a
	// month, so that a backup nobody can restore is found before it is needed.
	RestoreTesting bool `json:"restoreTesting"`
	// Retire is the first of the two steps that tear a protected
	// environment down on purpose: deployed, it lifts what keeps the
	// environment from being destroyed (Pulumi protect, deletion
	// protection), while what holds the data (the KMS keys, the backup
	// vaults, the buckets, the secrets) is retained by the destroy and the
	// databases leave final snapshots. The second step is pulumi destroy.
	Retire bool `json:"retire"`
}

// DR reports whether backups are copied to another region.
func (d DataProtection) DR() bool { return d.DRRegion != "" }

// SiloSizing is the `siloSizing` section: it caps what a silo tenant gets in
// a preset, so that dev runs premium and enterprise tenants cheaply.
type SiloSizing struct {
	InstanceClass    string `json:"instanceClass"`    // empty: the plan's class
	AllocatedStorage int    `json:"allocatedStorage"` // 0: the plan's storage
	SingleAz         bool   `json:"singleAz"`         // true: never multi-AZ
	// MaxAllocatedStorage caps how far a silo instance's storage may grow:
	// 0 leaves the plan's own limit.
	MaxAllocatedStorage int `json:"maxAllocatedStorage"`
}

// Alarms is the `alarms` section: every threshold, period and evaluation
// count of the environment's alarms, and whether they notify anyone.
type Alarms struct {
	Notify            bool    `json:"notify"`            // alarm actions to the alert topic
	PeriodSeconds     int     `json:"periodSeconds"`     // a multiple of 60
	EvaluationPeriods int     `json:"evaluationPeriods"` // consecutive breaching periods
	CPUPercent        float64 `json:"cpuPercent"`        // ECS service CPU
	MemoryPercent     float64 `json:"memoryPercent"`     // ECS service memory
	Target5xxCount    float64 `json:"target5xxCount"`    // ALB target 5xx per period
	LatencyP95Seconds float64 `json:"latencyP95Seconds"` // ALB target response time, p95
	DBCPUPercent      float64 `json:"dbCpuPercent"`
	DBFreeStoragePct  float64 `json:"dbFreeStoragePercent"` // of the allocated storage
	DBConnections     float64 `json:"dbConnections"`
	CacheCPUPercent   float64 `json:"cacheCpuPercent"`    // Redis engine CPU
	CacheMemoryPct    float64 `json:"cacheMemoryPercent"` // DatabaseMemoryUsagePercentage
	CacheEvictions    float64 `json:"cacheEvictions"`     // per period
	// Composite turns the composite alarm per service on (the default);
	// emulators that implement no composite alarms need it off.
	Composite bool `json:"composite"`
}

// Alerts is the `alerts` section.
type Alerts struct {
	Emails []string `json:"emails"`
}

// Domain is the `domain` section: the public name, the Route 53 zone it
// lives in, and the load balancer's certificate.
type Domain struct {
	Name string `json:"name"`
	// Zone is the hosted zone the program writes records into (and
	// validates certificates in); CreateZone makes it instead of looking
	// it up.
	Zone       string `json:"zone"`
	CreateZone bool   `json:"createZone"`
	// CertificateArn is a certificate made elsewhere; without it, a zone
	// makes the program request and validate one.
	CertificateArn string `json:"certificateArn"`
}

// HTTPS reports whether the load balancer terminates TLS.
func (d Domain) HTTPS() bool { return d.CertificateArn != "" || d.Zone != "" }

// ManagedCertificate reports whether the program requests the load
// balancer's certificate itself.
func (d Domain) ManagedCertificate() bool { return d.CertificateArn == "" && d.Zone != "" }

// StaticAssets is the `staticAssets` section: a private bucket behind
// CloudFront at Host. An empty Host means none.
type StaticAssets struct {
	Host       string `json:"host"`
	PriceClass string `json:"priceClass"` // PriceClass_100, PriceClass_200, PriceClass_All
	AccessLogs bool   `json:"accessLogs"` // CloudFront standard logs to a bucket
}

// Service is one entry of the `services` list, with defaults filled in.
type Service struct {
	Name            string
	Image           string // empty: <its repository>:<ImageTag>
	Port            int
	CPU             int // Fargate CPU units
	Memory          int // MiB
	DesiredCount    int
	MinCount        int
	MaxCount        int
	HealthCheckPath string
	Paths           []string // listener path patterns
	Hosts           []string // listener host headers; no paths and no hosts: internal service
	Priority        int      // listener rule priority
	Capacity        string
	Schedule        string // EventBridge schedule; set: a scheduled task, not a service
	WebSockets      bool   // sticky sessions and a long idle timeout
	// ContainerHealthCheck runs `curl -f http://localhost:<port><path>` in
	// the container; turn it off for images without curl.
	ContainerHealthCheck bool
	// ReadOnlyRootFilesystem mounts the image read-only, with a writable
	// /tmp; turn it off only for images that must write elsewhere.
	ReadOnlyRootFilesystem bool
	// ExecuteCommand allows ECS Exec sessions into the service's tasks,
	// logged and encrypted; ECS Exec needs a writable root filesystem.
	ExecuteCommand bool

	// Environment holds plain variables; values may carry ${...}
	// references to platform facts (see References).
	Environment Environment
	// Secrets are injected by ECS from Secrets Manager or SSM.
	Secrets map[string]SecretSource
	// Access and PolicyStatements are the task role's own permissions.
	Access           []AccessGrant
	PolicyStatements []PolicyStatement
	Tracing          bool   // OpenTelemetry collector sidecar, to X-Ray
	Metrics          string // "statsd": CloudWatch agent sidecar
	// StopTimeout is how long the app may drain after SIGTERM; 0 keeps
	// ECS's default of 30 seconds.
	StopTimeout         int
	DeregistrationDelay int    // seconds the target group drains a task
	Architecture        string // x86_64 or arm64
	// ImageTag tags the service's own repository: its own imageTag, else
	// the stack's. Empty when Image is set.
	ImageTag string
	Build    Build    // where CI builds the image from; empty: services/<name>
	Command  []string // overrides the image's command
	// Migrate, when set, runs as a one-off task of the service for every
	// tenant: when the tenant's database is created, and before a new
	// image or command rolls out.
	Migrate *Migrate
	// DatabaseConnections is what each task of a service that uses
	// PostgreSQL may open to the shared instance (its pool size).
	DatabaseConnections int
	// Calls are services this one calls that no reference names; Uses the
	// data stores it uses that no reference names (StoreDatabase,
	// StoreCache). Read them through Callees and UsesStore, which add what
	// the references imply.
	Calls []string
	Uses  []string
}

// Migrate is a service's `migrate` key: the command that brings one
// tenant's schema up to date. It must be idempotent: it runs again for
// every tenant whenever the service's task changes.
type Migrate struct {
	Command []string `json:"command"`
}

// MaxTasks is the most tasks the service runs at once.
func (s Service) MaxTasks() int { return max(s.DesiredCount, s.MaxCount) }

// Routed reports whether the service is reached through the load balancer.
func (s Service) Routed() bool { return len(s.Paths) > 0 || len(s.Hosts) > 0 }

// Scheduled reports whether the service runs as a scheduled task.
func (s Service) Scheduled() bool { return s.Schedule != "" }

// Autoscaled reports whether the service scales between MinCount and MaxCount.
func (s Service) Autoscaled() bool { return !s.Scheduled() && s.MaxCount > s.MinCount }

// What happens to a tenant's data when its entry leaves the stack file.
const (
	OnRemoveKeep = "keep" // the default: data stays, logins stop
	OnRemoveDrop = "drop" // the database is dropped (pool) or deleted (silo)
)

// Tenant is one entry of the `tenants` list, resolved against its plan.
type Tenant struct {
	ID   string
	Plan Plan
	// OnRemove must be "drop" in a deployment before the entry is removed
	// for the data to go with it.
	OnRemove string
	// Database is the tenant's dedicated instance sizing (silo plans only),
	// after the preset's SiloSizing cap.
	Database SiloDatabase
	// Pool is the instance a pool tenant's database lives in: SharedPool
	// or a database.pools name; empty for silo tenants.
	Pool string
}
