// Test tooling only: the pause program and the workload probe for the real-node tests.
module kubeboot.test/tools/helpers

go 1.26.0
