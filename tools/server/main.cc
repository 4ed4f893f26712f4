// cace_server: the OpenAI-compatible server (tools/server/README.md).
//   cace_server --config server.json [--host ADDR] [--port N]
// Prints "listening on HOST:PORT" once it accepts connections (port 0 picks a free one); SIGINT
// or SIGTERM stop it: requests in progress end cancelled, then the engine stops (when main's
// HttpService goes, which destroys the engine) and writes its state file if the config names one.
#include <httplib.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "tools/server/http_service.h"
#include "tools/server/server_config.h"

namespace {

// Threads that serve connections: each streaming client holds one while its request runs.
constexpr std::size_t kHttpThreads = 64;

int g_stop_pipe[2] = {-1, -1};

void OnStopSignal(int) {
  const char byte = 1;
  [[maybe_unused]] const ssize_t written = write(g_stop_pipe[1], &byte, 1);  // async-signal-safe
}

int Usage() {
  std::fprintf(stderr, "usage: cace_server --config FILE [--host ADDR] [--port N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string host;
  int port = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    if (arg == "--config") config_path = argv[++i];
    else if (arg == "--host") host = argv[++i];
    else if (arg == "--port") port = std::atoi(argv[++i]);
    else return Usage();
  }
  if (config_path.empty()) return Usage();
  auto config = cace::server::ReadServerConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "cace_server: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  if (!host.empty()) config->host = host;
  if (port >= 0) config->port = port;

  // SIGINT / SIGTERM write a byte to a pipe that a stopper thread waits on (threads that libraries
  // start before main, OpenBLAS's, would take a blocked-signal scheme's signal and die of it).
  if (pipe(g_stop_pipe) != 0) {
    std::perror("cace_server: pipe");
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  auto engine = cace::server::StartEngine(*config);
  if (!engine.ok()) {
    std::fprintf(stderr, "cace_server: %s\n", std::string(engine.status().message()).c_str());
    return 1;
  }
  const std::string listen_host = config->host;
  const int listen_port = config->port;
  cace::server::HttpService service(*std::move(config), *std::move(engine));
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  service.Register(server);
  const int bound = listen_port == 0 ? server.bind_to_any_port(listen_host) : 
                    (server.bind_to_port(listen_host, listen_port) ? listen_port : -1);
  if (bound < 0) {
    std::fprintf(stderr, "cace_server: cannot listen on %s:%d\n", listen_host.c_str(), listen_port);
    return 1;
  }
  std::thread stopper([&server, &service] {
    char byte = 0;
    while (read(g_stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    server.stop();
    service.Stop();
  });
  std::printf("listening on %s:%d\n", listen_host.c_str(), bound);
  std::fflush(stdout);
  server.listen_after_bind();
  // A stop not caused by a signal (a listen error) still lets the stopper thread end.
  OnStopSignal(0);
  stopper.join();
  return 0;
}
