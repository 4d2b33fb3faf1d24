# Every target calls an npm script: npm users reach the same things with `npm run <script>`.
.PHONY: install build typecheck lint test cluster cluster-build cluster-down run clean image bench manifests docs

# npm ci again only when the lock file changes; it also brings Node 24 into node_modules/.bin.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json

build: install
	npm run build

typecheck: install
	npm run typecheck

lint: install
	npm run lint

# Extra vitest arguments: make test TEST_ARGS="--project unit"
test: install
	npm test -- $(TEST_ARGS)

cluster-build: install
	npm run cluster:build

cluster: install
	npm run cluster:up

cluster-down: install
	npm run cluster:down

run: install
	npm run run:local

clean: install
	npm run clean

# deploy/pod-sync-operator.yaml from config/ (its one source); a test fails when it is out of date.
manifests: install
	npm run manifests

# The generated parts of docs/ (the flag table of docs/flags.md) from the code; a test fails when they are out of date.
docs: install
	npm run docs

# The container image, with docker or podman (hack/image.sh says so clearly when neither works here).
image:
	npm run image

# Benchmarks against client-go's workqueue example and a client-node baseline (bench/README.md); not
# part of make test. Extra arguments: make bench BENCH_ARGS="--sizes 1000 --runs 1"
bench: install
	npm run bench -- $(BENCH_ARGS)
