//! helrm-hwmodels: one schema for CPU, GPU and FHE-accelerator models, and the shipped models.
