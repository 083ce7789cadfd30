package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTheQuotaWarningStartsAtFourFifthsOfTheDefaultQuota(t *testing.T) {
	cases := []struct {
		silos int
		warns bool
	}{
		{0, false},
		{30, false}, // 31 instances
		{31, true},  // 32 instances: 80 % of 40
		{45, true},
	}
	for _, tc := range cases {
		msg := quotaWarning("saas-platform-prod", tc.silos)
		assert.Equal(t, tc.warns, msg != "", "%d silo tenants", tc.silos)
		if tc.warns {
			assert.Contains(t, msg, "quota is 40")
		}
	}
}
