// The facts of the ServeGen statistics (data/traces/servegen, README there) that the default model
// assignment is derived from, read from its derived tables, and the assignment parameters derived
// from them. Every parameter travels with the fact it comes from, so the replay can print both.
#ifndef CACE_LIB_WORKLOAD_SERVEGEN_FACTS_H_
#define CACE_LIB_WORKLOAD_SERVEGEN_FACTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cace {

// One ServeGen model, as measured.
struct ServeGenModel {
  std::string name;
  double share = 0;                  // of all models' requests over the span every model covers
  std::vector<double> client_shares; // each client's share of this model's volume, largest first
  double client_cv = 0;              // median over windows of the rate-weighted client IAT CV
};

struct ServeGenFacts {
  std::vector<ServeGenModel> models;  // by share, largest first
  double shared_span_hours = 0;       // the span every model covers (the share's window)
  // Drift, over the models present for the whole record (the language models), per hour of the
  // record that is not a collection gap (a model's hour under a fifth of its median hour): the
  // standard deviation of the change of a model's log share from one hour to the next, and of
  // its log share around its own mean (both pooled over those models).
  std::vector<std::string> drift_models;
  int drift_hours = 0;                // hours kept
  int gap_hours = 0;                  // hours dropped as collection gaps
  double hourly_log_share_change_sd = 0;
  double log_share_level_sd = 0;
};

// Reads derived/model_rate_10min.csv and derived/client_totals.csv under `servegen_dir`.
absl::StatusOr<ServeGenFacts> ReadServeGenFacts(const std::string& servegen_dir);

// The parameters of the client-based assignment (client_assignment.h), derived from
// the facts by fixed rules:
//  - rank r of a traffic class gets the share of the r-th largest ServeGen model; ranks beyond
//    the measured ones continue the last two measured shares' ratio; a class takes its first n
//    shares, renormalised;
//  - rank r's clients are that ServeGen model's clients with their measured shares (the last
//    measured model's beyond), and their inter-arrival CV is that model's client CV;
//  - each model's log share follows an AR(1) process, stepped every 10 minutes (the data's
//    window), whose hourly change and level have the measured standard deviations:
//    per hour phi = 1 - change_sd^2 / (2 level_sd^2).
struct ServeGenRank {
  std::string source_model;
  double share = 0;
  std::vector<double> client_shares;
  double client_cv = 1;
};
struct ServeGenAssignmentParameters {
  std::vector<ServeGenRank> ranks;  // the measured ranks; DeriveRankShares extends them
  double drift_window_seconds = 600;
  double drift_phi_per_hour = 0;
  double log_share_level_sd = 0;
};
absl::StatusOr<ServeGenAssignmentParameters> DeriveAssignmentParameters(const ServeGenFacts& facts);

// Each parameter beside the fact it comes from, one line each, for the replay to print.
std::vector<std::string> DescribeAssignmentParameters(const ServeGenFacts& facts,
                                                      const ServeGenAssignmentParameters& params);

}  // namespace cace

#endif  // CACE_LIB_WORKLOAD_SERVEGEN_FACTS_H_
