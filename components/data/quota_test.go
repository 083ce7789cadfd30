package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTheQuotaWarningStartsAtFourFifthsOfTheDefaultQuota(t *testing.T) {
	cases := []struct {
		pools, silos int
		warns        bool
	}{
		{0, 0, false},
		{0, 30, false}, // 31 instances
		{0, 31, true},  // 32 instances: 80 % of 40
		{10, 21, true}, // pools count as instances too
		{0, 45, true},
	}
	for _, tc := range cases {
		msg := quotaWarning("saas-platform-prod", tc.pools, tc.silos)
		assert.Equal(t, tc.warns, msg != "", "%d pools, %d silo tenants", tc.pools, tc.silos)
		if tc.warns {
			assert.Contains(t, msg, "quota is 40")
		}
	}
}
