package ratelimit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/xblread/xblread/pkg/xbl"
)

// Defaults are Xbox Live's documented limits, per service (the
// leaderboards', which are not documented, are the user statistics
// reads').
var Defaults = map[string]Limit{
	UserStats:        {Burst: 100, Sustain: 300},
	SessionDirectory: {Burst: 30, Sustain: 300},
	StatsWrite:       {Burst: 10, Sustain: 10},
	Leaderboards:     {Burst: 100, Sustain: 300},
	RTA:              {Burst: 30, Sustain: 300},
}

// Config is the limits of a deployment.
type Config struct {
	// Off turns limiting off (RATE_LIMITS=off).
	Off bool
	// Services are the limits of ordinary callers, per service.
	Services map[string]Limit
	// Server is the limit of callers with server-level access, whatever the
	// service; zero (the default) does not limit them.
	Server Limit
	// Titles override a service's limit for one title: title → service →
	// limit.
	Titles map[string]map[string]Limit
}

// ConfigFromEnv reads the limits: RATE_LIMITS (on or off),
// RATE_LIMIT_USERSTATS, RATE_LIMIT_SESSIONDIRECTORY, RATE_LIMIT_STATSWRITE,
// RATE_LIMIT_LEADERBOARDS, RATE_LIMIT_RTA (burst/sustain, such as 100/300;
// off for none),
// RATE_LIMIT_SERVER, and RATE_LIMIT_TITLES, overrides for single titles:
// "1297287135:userstats=200/600,1297287135:sessiondirectory=60/600".
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Services: map[string]Limit{}, Titles: map[string]map[string]Limit{}}
	var errs []error
	switch v := getenv("RATE_LIMITS"); v {
	case "", "on":
	case "off":
		c.Off = true
	default:
		errs = append(errs, fmt.Errorf("RATE_LIMITS %q is not on or off", v))
	}
	for service, def := range Defaults {
		name := "RATE_LIMIT_" + strings.ToUpper(service)
		c.Services[service] = def
		if v := getenv(name); v != "" {
			l, err := ParseLimit(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			c.Services[service] = l
		}
	}
	var err error
	if c.Server, err = ParseLimit(getenv("RATE_LIMIT_SERVER")); err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_SERVER: %w", err))
	}
	if v := getenv("RATE_LIMIT_TITLES"); v != "" {
		for _, part := range strings.Split(v, ",") {
			title, rest, ok1 := strings.Cut(strings.TrimSpace(part), ":")
			service, limit, ok2 := strings.Cut(rest, "=")
			l, err := ParseLimit(limit)
			if _, known := Defaults[service]; !ok1 || !ok2 || title == "" || !known || err != nil {
				errs = append(errs, fmt.Errorf("RATE_LIMIT_TITLES: %q is not title:service=burst/sustain with a service of %s", part, strings.Join(services(), ", ")))
				continue
			}
			if c.Titles[title] == nil {
				c.Titles[title] = map[string]Limit{}
			}
			c.Titles[title][service] = l
		}
	}
	return c, errors.Join(errs...)
}

func services() []string { return []string{UserStats, SessionDirectory, StatsWrite, Leaderboards, RTA} }

// Limits returns the limit of each request under c.
func (c Config) Limits(k Key, caller *xbl.Caller) Limit {
	switch {
	case c.Off:
		return Limit{}
	case caller.Server:
		return c.Server
	}
	if l, ok := c.Titles[k.TitleID][k.Service]; ok {
		return l
	}
	return c.Services[k.Service]
}
