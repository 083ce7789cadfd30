package compute

import (
	"github.com/saas-platform/saas-platform/config"
)

// Fargate capacity providers.
const (
	Fargate     = "FARGATE"
	FargateSpot = "FARGATE_SPOT"
)

// Share is one capacity provider's part of a strategy.
type Share struct {
	Provider string
	Base     int // tasks placed on this provider first
	Weight   int // share of the tasks after the bases
}

// balancedBase keeps this many tasks on on-demand Fargate so that a spot
// reclaim never takes a service down.
const balancedBase = 2

// Strategy is the capacity table: what each capacity setting means for a
// service whose minimum is minCount. The base never exceeds the minimum, so
// a scaled-in service is not pinned to on-demand capacity it does not need.
func Strategy(capacity string, minCount int) []Share {
	switch capacity {
	case config.CapacityOnDemand:
		return []Share{{Provider: Fargate, Weight: 1}}
	case config.CapacitySpot:
		return []Share{{Provider: FargateSpot, Weight: 1}}
	default: // config.CapacityBalanced; config validation allows nothing else
		return []Share{
			{Provider: Fargate, Base: min(balancedBase, max(minCount, 0)), Weight: 1},
			{Provider: FargateSpot, Weight: 4},
		}
	}
}
