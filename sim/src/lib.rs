//! helrm-sim: lowers operation traces to kernels and replays them on a machine model.
