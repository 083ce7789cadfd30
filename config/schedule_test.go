package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/config"
)

func TestTheSleepScheduleComesFromThePresetAndTheStackFile(t *testing.T) {
	cases := []struct {
		name     string
		sizing   string
		region   string
		schedule string // the stack file's schedule section, "" for none
		awake    []config.AwakeWindow
		timezone string
		hours    float64
	}{
		{"dev sleeps outside weekdays 08:00-20:00 in its region's local time", "dev", "ap-northeast-1", "",
			[]config.AwakeWindow{{Days: "MON-FRI", From: "08:00", To: "20:00"}}, "Asia/Tokyo", 60},
		{"dev in another region keeps the hours in that region's time", "dev", "eu-central-1", "",
			[]config.AwakeWindow{{Days: "MON-FRI", From: "08:00", To: "20:00"}}, "Europe/Berlin", 60},
		{"prod never sleeps unless asked", "prod", "ap-northeast-1", "", nil, "", 168},
		{"a stack turns dev's schedule off with an empty awake list", "dev", "ap-northeast-1", `{"awake":[]}`,
			[]config.AwakeWindow{}, "", 168},
		{"a stack names its own time zone and keeps the preset's windows", "dev", "ap-northeast-1", `{"timezone":"UTC"}`,
			[]config.AwakeWindow{{Days: "MON-FRI", From: "08:00", To: "20:00"}}, "UTC", 60},
		{"a prod stack that asks sleeps on its own windows", "prod", "ap-northeast-1",
			`{"awake":[{"days":"MON-FRI","from":"07:30","to":"22:00"},{"days":"SAT","from":"10:00","to":"14:00"}]}`,
			[]config.AwakeWindow{{Days: "MON-FRI", From: "07:30", To: "22:00"}, {Days: "SAT", From: "10:00", To: "14:00"}},
			"Asia/Tokyo", 5*14.5 + 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			overrides := map[string]string{"saas-platform:sizing": tc.sizing, "aws:region": tc.region}
			if tc.sizing == "prod" {
				overrides["saas-platform:domain"] = `{"certificateArn":"arn:aws:acm:` + tc.region + `:123456789012:certificate/abc"}`
			}
			if tc.schedule != "" {
				overrides["saas-platform:schedule"] = tc.schedule
			}
			s, err := config.Parse(project, "dev", values(overrides))
			require.NoError(t, err)
			if tc.awake == nil {
				assert.Empty(t, s.Schedule.Awake)
			} else {
				assert.Equal(t, tc.awake, s.Schedule.Awake)
			}
			assert.Equal(t, tc.timezone, s.Schedule.Timezone)
			assert.Equal(t, len(tc.awake) > 0, s.Schedule.On())
			assert.InDelta(t, tc.hours, s.Schedule.AwakeHoursPerWeek(), 1e-9)
		})
	}
}

func TestEachAwakeWindowWakesAndSleepsOnItsDaysWithOneCronEach(t *testing.T) {
	s := config.Schedule{Awake: []config.AwakeWindow{
		{Days: "MON-FRI", From: "08:00", To: "20:00"},
		{Days: "SAT,SUN", From: "10:30", To: "12:05"},
		{Days: "MON,WED-FRI", From: "21:00", To: "23:59"},
	}}
	assert.Equal(t, []config.Transition{
		{Name: "wake-1", Awake: true, Cron: "cron(0 8 ? * MON-FRI *)"},
		{Name: "sleep-1", Awake: false, Cron: "cron(0 20 ? * MON-FRI *)"},
		{Name: "wake-2", Awake: true, Cron: "cron(30 10 ? * SUN,SAT *)"},
		{Name: "sleep-2", Awake: false, Cron: "cron(5 12 ? * SUN,SAT *)"},
		{Name: "wake-3", Awake: true, Cron: "cron(0 21 ? * MON,WED-FRI *)"},
		{Name: "sleep-3", Awake: false, Cron: "cron(59 23 ? * MON,WED-FRI *)"},
	}, s.Transitions())
	assert.Empty(t, config.Schedule{}.Transitions(), "always on: nothing to schedule")
}

func TestAScheduleThatCannotWorkIsRejectedWithItsKeyPath(t *testing.T) {
	cases := []struct {
		name, region, schedule, key, value, allowed string
	}{
		{"days in the wrong order", "ap-northeast-1", `{"awake":[{"days":"FRI-MON","from":"08:00","to":"20:00"}]}`,
			"saas-platform:schedule.awake[0].days", "FRI-MON", "SUN, MON, TUE, WED, THU, FRI, SAT"},
		{"a day spelt out", "ap-northeast-1", `{"awake":[{"days":"Monday","from":"08:00","to":"20:00"}]}`,
			"saas-platform:schedule.awake[0].days", "Monday", "such as MON-FRI"},
		{"no days", "ap-northeast-1", `{"awake":[{"from":"08:00","to":"20:00"}]}`,
			"saas-platform:schedule.awake[0].days", "", "day names"},
		{"a time without its leading zero", "ap-northeast-1", `{"awake":[{"days":"MON","from":"8:00","to":"20:00"}]}`,
			"saas-platform:schedule.awake[0].from", "8:00", `"HH:MM"`},
		{"a time past the day", "ap-northeast-1", `{"awake":[{"days":"MON","from":"08:00","to":"24:00"}]}`,
			"saas-platform:schedule.awake[0].to", "24:00", `"HH:MM"`},
		{"a window that ends before it starts", "ap-northeast-1", `{"awake":[{"days":"MON","from":"22:00","to":"06:00"}]}`,
			"saas-platform:schedule.awake[0].to", "06:00", "later than from (22:00)"},
		{"windows that overlap", "ap-northeast-1",
			`{"awake":[{"days":"MON-FRI","from":"08:00","to":"20:00"},{"days":"FRI","from":"19:00","to":"23:00"}]}`,
			"saas-platform:schedule.awake[1]", "FRI 19:00-23:00", "overlaps or touches saas-platform:schedule.awake[0] on FRI"},
		{"windows that touch", "ap-northeast-1",
			`{"awake":[{"days":"MON","from":"08:00","to":"12:00"},{"days":"MON","from":"12:00","to":"18:00"}]}`,
			"saas-platform:schedule.awake[1]", "MON 12:00-18:00", "merge them into one window"},
		{"a time zone that does not exist", "ap-northeast-1", `{"timezone":"Asia/Atlantis"}`,
			"saas-platform:schedule.timezone", "Asia/Atlantis", "IANA time zone"},
		{"a region opened since whose local time is unknown", "ap-southeast-9", `{}`,
			"saas-platform:schedule.timezone", "", "no local time for ap-southeast-9"},
	}
	for _, tc := range cases {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			_, err := config.Parse(project, "dev", values(map[string]string{
				"aws:region": tc.region, "saas-platform:schedule": tc.schedule,
				"saas-platform:additionalRegions": `["ap-southeast-9"]`,
			}))
			p := oneProblem(t, err)
			assert.Equal(t, tc.key, p.Key)
			assert.Equal(t, tc.value, p.Value)
			assert.Contains(t, p.Allowed, tc.allowed)
		})
	}
}

func TestEveryRegionThePinnedProviderKnowsHasALocalTime(t *testing.T) {
	for _, region := range config.KnownRegions() {
		s, err := config.Parse(project, "dev", values(map[string]string{"aws:region": region}))
		if assert.NoError(t, err, region) {
			assert.NotEmpty(t, s.Schedule.Timezone, region)
		}
	}
}
