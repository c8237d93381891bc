# virtvboxd: `make run` builds and runs the daemon, `make check` installs what the tests need and runs them all.
GO          ?= go
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
RUNSTATEDIR ?= /run
LOCALSTATEDIR ?= /var
UNITDIR     ?= /lib/systemd/system
DESTDIR     ?=
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null | sed 's/^v//' || echo 0.1.0)

PKG     := github.com/virtvboxd/virtvboxd
LDFLAGS := -s -w -X $(PKG)/internal/buildinfo.Version=$(VERSION) \
           -X $(PKG)/internal/buildinfo.SysconfDir=$(SYSCONFDIR) \
           -X $(PKG)/internal/buildinfo.RunstateDir=$(RUNSTATEDIR) \
           -X $(PKG)/internal/buildinfo.LocalStateDir=$(LOCALSTATEDIR)
GOFLAGS_BUILD := -trimpath -ldflags '$(LDFLAGS)'

# Test knobs: bounded fuzzing, and the end-to-end suite must not skip for a missing tool.
FUZZTIME ?= 10s
# The VBoxManage `make vbox-smoke` tests against.
VBOXMANAGE ?= VBoxManage
export VIRTVBOXD_E2E_REQUIRE := 1
# staticcheck, pinned (module version; `staticcheck -version` prints it in parentheses), installed by `make deps`
# from the Go module proxy into bin/tools; its checks are in staticcheck.conf.
STATICCHECK_VERSION := 0.8.2
TOOLSDIR    := $(CURDIR)/bin/tools
STATICCHECK := $(TOOLSDIR)/staticcheck

.PHONY: all build run check test deps fmt-check vet staticcheck tidy-check generate generate-check fuzz vbox-smoke vbox-smoke-sim bench bench-compare install install-sim man deb pkg-test help clean

all: build

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort | awk -F'\t' '{printf "  %-15s %s\n", $$1, $$2}'

build: ## build bin/virtvboxd, bin/vboxsim and bin/vbox-smoke
	@mkdir -p bin
	$(GO) build $(GOFLAGS_BUILD) -o bin/ ./cmd/...

run: build ## build and run the daemon in the foreground (against the simulator when VirtualBox is absent)
	@./scripts/run.sh

deps: ## install what the tests need (Debian: libvirt-clients, python3-libvirt, systemd, virtinst, ansible, python3-lxml; staticcheck)
	@./scripts/install-test-deps.sh
	@$(STATICCHECK) -version 2>/dev/null | grep -qF '($(STATICCHECK_VERSION))' || \
	  GOBIN=$(TOOLSDIR) $(GO) install honnef.co/go/tools/cmd/staticcheck@v$(STATICCHECK_VERSION)

fmt-check: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet ./...

staticcheck: ## staticcheck on every package, checks as staticcheck.conf says (make deps installs it)
	@test -x $(STATICCHECK) || { echo "$(STATICCHECK) not found: run make deps"; exit 1; }
	$(STATICCHECK) ./...

tidy-check: ## fail if go mod tidy would change go.mod or go.sum
	$(GO) mod tidy -diff

generate: ## regenerate internal/rpc/protocol.gen.go and internal/vbox/keymap/keymap.gen.go from their facts files
	$(GO) generate ./internal/rpc ./internal/vbox/keymap

generate-check: ## fail if a generated file is not what its input gives
	cd internal/rpc && $(GO) run ./internal/genfacts -check
	cd internal/vbox/keymap && $(GO) run ./internal/genkeymap -check

test: build ## unit, integration and end-to-end tests with the race detector
	VIRTVBOXD_BIN_DIR=$(CURDIR)/bin $(GO) test -race -count=1 -timeout 12m ./...

fuzz: ## run every fuzz target for FUZZTIME each
	@./scripts/fuzz.sh $(FUZZTIME)

vbox-smoke: build ## on a VirtualBox host: virsh workflow on a throwaway VM in a scratch VBOX_USER_HOME; report in vbox-smoke-report.txt
	./bin/vbox-smoke -daemon bin/virtvboxd -vboxmanage '$(VBOXMANAGE)' -report vbox-smoke-report.txt

vbox-smoke-sim: build ## the vbox-smoke workflow against the simulator (bin/vboxsim), as make check runs it
	VBOXSIM_LATENCY=0 VBOXSIM_COLD_START=0 ./bin/vbox-smoke -daemon bin/virtvboxd -vboxmanage bin/vboxsim -report bin/vbox-smoke-sim-report.txt

check: deps fmt-check vet staticcheck tidy-check generate-check test fuzz vbox-smoke-sim pkg-test ## install test dependencies, then run every test

bench: build ## benchmarks (figures for the notes; nothing asserted)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...

bench-compare: build ## virtvboxd beside libvirt's libvirtd in one sitting (root; Debian's libvirt-daemon)
	./bench/compare.sh

install: build ## install the daemon, units, config and man page under DESTDIR/PREFIX (not the simulator)
	install -D -m 0755 bin/virtvboxd $(DESTDIR)$(SBINDIR)/virtvboxd
	install -D -m 0644 docs/virtvboxd.conf $(DESTDIR)$(SYSCONFDIR)/libvirt/virtvboxd.conf
	for u in systemd/*.service.in systemd/*.socket.in; do \
	  n=$$(basename $$u .in); \
	  sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@RUNSTATEDIR@|$(RUNSTATEDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $$u > bin/$$n; \
	  install -D -m 0644 bin/$$n $(DESTDIR)$(UNITDIR)/$$n; \
	done
	-$(MAKE) man && install -D -m 0644 docs/virtvboxd.8 $(DESTDIR)$(MANDIR)/man8/virtvboxd.8

install-sim: build ## install the VBoxManage simulator (a test double) as BINDIR/vboxsim
	install -D -m 0755 bin/vboxsim $(DESTDIR)$(BINDIR)/vboxsim

# The Debian packages. The Go toolchain is not a Debian package here (it lives in
# /usr/local/go), so unless `go` comes from a Debian package the build profile
# pkg.virtvboxd.local-go drops golang-go from the build dependencies; the others
# (debhelper, python3-docutils) are checked. The build runs in a copy of the tree.
DEBDIR     := bin/deb
DEB_GO_PROFILE = $(if $(shell dpkg -S "$$(readlink -f "$$(command -v $(GO))")" 2>/dev/null),,pkg.virtvboxd.local-go)
DEB_BUILD_PROFILES ?= $(DEB_GO_PROFILE)

deb: ## build the Debian packages virtvboxd and virtvboxd-sim into bin/deb/
	rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/src/virtvboxd
	tar -c --exclude=./bin --exclude=./.git --exclude=./docs/virtvboxd.8 . | tar -x -C $(DEBDIR)/src/virtvboxd
	cd $(DEBDIR)/src/virtvboxd && GOCACHE="$$($(GO) env GOCACHE)" GOMODCACHE="$$($(GO) env GOMODCACHE)" \
	  PATH="$$(dirname "$$(command -v $(GO))"):$$PATH" \
	  dpkg-buildpackage -b -us -uc $(if $(DEB_BUILD_PROFILES),-P$(DEB_BUILD_PROFILES))
	mv $(DEBDIR)/src/*.deb $(DEBDIR)/src/*.changes $(DEBDIR)/src/*.buildinfo $(DEBDIR)/
	rm -rf $(DEBDIR)/src
	@ls -1 $(DEBDIR)/*.deb

pkg-test: deb ## install, run, upgrade and purge the built package on this machine (root; a throwaway machine)
	./scripts/pkg-test.sh $(DEBDIR)

man: ## build docs/virtvboxd.8 from docs/virtvboxd.rst (needs rst2man)
	@command -v rst2man >/dev/null || { echo "rst2man not found (apt-get install python3-docutils)"; exit 1; }
	rst2man docs/virtvboxd.rst docs/virtvboxd.8

clean: ## remove build output
	rm -rf bin docs/virtvboxd.8
