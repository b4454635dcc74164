//! Upgrade analysis: device facts + image metadata + method → readiness.
//! (Skeleton: replaced by the real analysis.)
