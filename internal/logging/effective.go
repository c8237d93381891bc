package logging

import "os"

// The environment variables libvirt's daemons read.
const (
	EnvDebug   = "LIBVIRT_DEBUG"
	EnvFilters = "LIBVIRT_LOG_FILTERS"
	EnvOutputs = "LIBVIRT_LOG_OUTPUTS"
)

// Inputs are the sources of the logging settings, from the weakest to the
// strongest: the config file, the environment, the command line.
type Inputs struct {
	ConfigLevel   uint   // log_level; 0 = unset
	ConfigFilters string // log_filters
	ConfigOutputs string // log_outputs

	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string

	// Verbose is -v: it lowers the level to info (2), only if it is higher.
	Verbose bool
}

// Effective computes the settings with libvirt's precedence: the command
// line over the environment (LIBVIRT_DEBUG, LIBVIRT_LOG_FILTERS,
// LIBVIRT_LOG_OUTPUTS; empty variables are ignored) over the config file.
// Every source is validated even when a stronger one overrides it, as
// libvirt's daemons validate them, and the first error is returned with
// libvirt's text. DefaultOutputs is left empty for the caller to fill in
// with DefaultOutputs(daemonMode, privileged, logFile, s.Level).
func Effective(in Inputs) (Settings, error) {
	getenv := in.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	s := Settings{Level: DefaultLevel, Filters: in.ConfigFilters, Outputs: in.ConfigOutputs}
	if in.ConfigLevel != 0 {
		if err := CheckLevel(in.ConfigLevel); err != nil {
			return Settings{}, err
		}
		s.Level = int(in.ConfigLevel)
	}
	if _, err := ParseFilters(s.Filters); err != nil {
		return Settings{}, err
	}
	if _, err := ParseOutputs(s.Outputs); err != nil {
		return Settings{}, err
	}

	if v := getenv(EnvDebug); v != "" {
		lv, err := ParseLevel(v)
		if err != nil {
			return Settings{}, err
		}
		s.Level = lv
	}
	if v := getenv(EnvFilters); v != "" {
		if _, err := ParseFilters(v); err != nil {
			return Settings{}, err
		}
		s.Filters = v
	}
	if v := getenv(EnvOutputs); v != "" {
		if _, err := ParseOutputs(v); err != nil {
			return Settings{}, err
		}
		s.Outputs = v
	}

	if in.Verbose && s.Level > LevelInfo {
		s.Level = LevelInfo
	}
	return s, nil
}
