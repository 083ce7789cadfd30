package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	// The schedule's time zone is checked against the IANA database; the
	// embedded copy makes the check the same on every machine.
	_ "time/tzdata"
)

// Schedule is the `schedule` section: when the stack's services run and its
// databases are up. Outside every awake window the services are scaled to
// zero and the RDS instances are stopped; an empty Awake list is always on.
type Schedule struct {
	Awake []AwakeWindow `json:"awake"`
	// Timezone is an IANA zone (Asia/Tokyo); empty: the region's own
	// (regionTimezones), resolved during validation.
	Timezone string `json:"timezone"`
}

// AwakeWindow is one `schedule.awake` entry: the days it recurs on and the
// local time the stack wakes (From) and goes back to sleep (To), same day.
type AwakeWindow struct {
	// Days are day names or ranges of them, comma-separated, in AWS cron's
	// week (SUN to SAT): MON-FRI, SAT,SUN, MON,WED,FRI.
	Days string `json:"days"`
	From string `json:"from"` // "08:00"
	To   string `json:"to"`   // "20:00"
}

// On reports whether the stack sleeps at all.
func (s Schedule) On() bool { return len(s.Awake) > 0 }

// Transition is one moment the schedule acts: the stack wakes up (Awake)
// or goes to sleep, at Cron in the schedule's time zone.
type Transition struct {
	// Name is stable and unique within a schedule: wake-1, sleep-1, ...
	Name  string
	Awake bool
	// Cron is an AWS cron expression, cron(min hour ? * days *): the form
	// EventBridge Scheduler and Application Auto Scaling both accept.
	Cron string
}

// Transitions lists, for each awake window in order, its wake-up and its
// sleep. Every window ends with a sleep on the same days it starts, so a
// database RDS restarts by itself after seven days stopped, or one woken by
// hand, is stopped again at the end of the next window.
func (s Schedule) Transitions() []Transition {
	var out []Transition
	for i, w := range s.Awake {
		days, _ := parseDays(w.Days)
		field := cronDays(days)
		fromH, fromM, _ := clock(w.From)
		toH, toM, _ := clock(w.To)
		out = append(out,
			Transition{Name: fmt.Sprintf("wake-%d", i+1), Awake: true, Cron: fmt.Sprintf("cron(%d %d ? * %s *)", fromM, fromH, field)},
			Transition{Name: fmt.Sprintf("sleep-%d", i+1), Awake: false, Cron: fmt.Sprintf("cron(%d %d ? * %s *)", toM, toH, field)},
		)
	}
	return out
}

// AwakeHoursPerWeek is how long the stack is up in a week.
func (s Schedule) AwakeHoursPerWeek() float64 {
	if !s.On() {
		return 7 * 24
	}
	var minutes int
	for _, w := range s.Awake {
		days, _ := parseDays(w.Days)
		fromH, fromM, _ := clock(w.From)
		toH, toM, _ := clock(w.To)
		minutes += len(days) * ((toH*60 + toM) - (fromH*60 + fromM))
	}
	return float64(minutes) / 60
}

// weekDays are AWS cron's day names, in its order: 1 is SUN, 7 is SAT.
var weekDays = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// clock reads "HH:MM" (24-hour).
func clock(s string) (hour, minute int, ok bool) {
	m := clockPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	hour, _ = strconv.Atoi(m[1])
	minute, _ = strconv.Atoi(m[2])
	return hour, minute, true
}

// parseDays reads "MON-FRI", "SAT,SUN" into day indexes (0 is SUN), sorted
// and distinct; ok is false for anything else.
func parseDays(s string) ([]int, bool) {
	var days []int
	if strings.TrimSpace(s) == "" {
		return nil, false
	}
	for _, item := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(item), "-")
		a := slices.Index(weekDays, from)
		b := a
		if isRange {
			b = slices.Index(weekDays, to)
		}
		if a < 0 || b < 0 || b < a {
			return nil, false
		}
		for d := a; d <= b; d++ {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	return slices.Compact(days), true
}

// cronDays writes day indexes as a cron day-of-week field, runs of three
// or more as ranges: MON-FRI, SUN,SAT.
func cronDays(days []int) string {
	var parts []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && days[j+1] == days[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, weekDays[days[i]]+"-"+weekDays[days[j]])
		default:
			for k := i; k <= j; k++ {
				parts = append(parts, weekDays[days[k]])
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// regionTimezones is each region's local time: the time zone a schedule
// uses unless the stack file names one.
var regionTimezones = map[string]string{
	"us-east-1": "America/New_York", "us-east-2": "America/New_York",
	"us-west-1": "America/Los_Angeles", "us-west-2": "America/Los_Angeles",
	"ca-central-1": "America/Toronto", "ca-west-1": "America/Edmonton",
	"mx-central-1": "America/Mexico_City", "sa-east-1": "America/Sao_Paulo",
	"eu-west-1": "Europe/Dublin", "eu-west-2": "Europe/London", "eu-west-3": "Europe/Paris",
	"eu-central-1": "Europe/Berlin", "eu-central-2": "Europe/Zurich", "eu-north-1": "Europe/Stockholm",
	"eu-south-1": "Europe/Rome", "eu-south-2": "Europe/Madrid",
	"af-south-1": "Africa/Johannesburg", "il-central-1": "Asia/Jerusalem",
	"me-south-1": "Asia/Bahrain", "me-central-1": "Asia/Dubai",
	"ap-east-1": "Asia/Hong_Kong", "ap-south-1": "Asia/Kolkata", "ap-south-2": "Asia/Kolkata",
	"ap-northeast-1": "Asia/Tokyo", "ap-northeast-2": "Asia/Seoul", "ap-northeast-3": "Asia/Tokyo",
	"ap-southeast-1": "Asia/Singapore", "ap-southeast-2": "Australia/Sydney",
	"ap-southeast-3": "Asia/Jakarta", "ap-southeast-4": "Australia/Melbourne",
	"ap-southeast-5": "Asia/Kuala_Lumpur", "ap-southeast-7": "Asia/Bangkok",
	"cn-north-1": "Asia/Shanghai", "cn-northwest-1": "Asia/Shanghai",
	"us-gov-east-1": "America/New_York", "us-gov-west-1": "America/Los_Angeles",
	"us-iso-east-1": "America/New_York", "us-iso-west-1": "America/Denver",
	"us-isob-east-1": "America/New_York", "eu-isoe-west-1": "Europe/Paris",
}

func (v *validator) schedule() {
	s := &v.stack.Schedule
	key := v.key(KeySchedule)
	if s.Timezone == "" && s.On() {
		if tz, ok := regionTimezones[v.stack.Region]; ok {
			s.Timezone = tz
		} else if slices.Contains(knownRegions, v.stack.Region) || slices.Contains(v.stack.AdditionalRegions, v.stack.Region) {
			// An unknown region is reported once, as itself.
			v.problem(key+".timezone", "", fmt.Sprintf(
				"is required: the program knows no local time for %s; name an IANA time zone such as Europe/Berlin or UTC", v.stack.Region))
		}
	}
	if s.Timezone != "" {
		if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "Local" {
			v.problem(key+".timezone", s.Timezone, "must be an IANA time zone such as Asia/Tokyo, Europe/Berlin or UTC")
		}
	}
	// busy[day] holds the windows already seen on that day, to refuse
	// windows that overlap or touch: a sleep and a wake-up at the same
	// minute would race.
	type span struct {
		index, from, to int
	}
	busy := map[int][]span{}
	for i, w := range s.Awake {
		at := fmt.Sprintf("%s.awake[%d]", key, i)
		days, daysOK := parseDays(w.Days)
		if !daysOK {
			v.problem(at+".days", w.Days, "must be day names (SUN, MON, TUE, WED, THU, FRI, SAT) or ranges of them in that order, separated by commas, such as MON-FRI or SAT,SUN")
		}
		fromH, fromM, fromOK := clock(w.From)
		if !fromOK {
			v.problem(at+".from", w.From, `must be a 24-hour time "HH:MM", such as "08:00"`)
		}
		toH, toM, toOK := clock(w.To)
		if !toOK {
			v.problem(at+".to", w.To, `must be a 24-hour time "HH:MM", such as "20:00"`)
		}
		if !daysOK || !fromOK || !toOK {
			continue
		}
		from, to := fromH*60+fromM, toH*60+toM
		if to <= from {
			v.problem(at+".to", w.To, fmt.Sprintf("must be later than from (%s) on the same day: a window past midnight is two windows", w.From))
			continue
		}
		reported := map[int]bool{}
		for _, d := range days {
			for _, other := range busy[d] {
				if from <= other.to && other.from <= to && !reported[other.index] {
					reported[other.index] = true
					v.problem(at, fmt.Sprintf("%s %s-%s", w.Days, w.From, w.To), fmt.Sprintf(
						"overlaps or touches %s.awake[%d] on %s: merge them into one window", key, other.index, weekDays[d]))
				}
			}
		}
		for _, d := range days {
			busy[d] = append(busy[d], span{i, from, to})
		}
	}
}
