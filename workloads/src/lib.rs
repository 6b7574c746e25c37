//! helrm-workloads: datasets, DLRM models, HE-LRM embedding lookups and the DLRM → CKKS plan.
