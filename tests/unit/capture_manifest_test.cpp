// capture.json (render/capture_manifest.h): what an OOM capture records
// about the kill and the report, read back as written, and the table
// `slableak captures` prints from it.
#include "capture_manifest.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "error.h"

using namespace slableak;

namespace {

CaptureSummary oom_capture() {
  CaptureSummary c;
  c.name = "20261206T211405.250Z-oom";
  c.unix_time = 1796591645.250;  // 2026-12-06 21:14:05.250 UTC
  c.monotonic_s = 812.750;
  c.trigger = CaptureTrigger::oom;
  c.reason = "OOM killer marked pid 512 (holder)";
  OomVictim v;
  v.pid = 512;
  v.comm = "holder";
  v.cgroup = "/system.slice/holder.service";
  v.monotonic_s = 812.625;        // the kernel's event, 125 ms before the report
  v.unix_time = 1796591645.125;
  c.victim = v;
  c.top_cache = "kmalloc-2k";
  c.top_stack_id = "0123456789abcdef";
  c.top_frame = "netlink_sendmsg";
  c.top_verdict = "leaking";
  c.top_bytes = 100 << 20;
  c.files = {"report.json", "flamegraph.svg", "profile.pb.gz", "meminfo", "slabinfo", "metrics.prom", "capture.json"};
  return c;
}

}  // namespace

TEST(CaptureManifest, RecordsTheKernelTimeOfTheOomKillNextToTheReportTime) {
  const auto j = nlohmann::json::parse(render_capture_manifest(oom_capture()));
  EXPECT_DOUBLE_EQ(j["victim"]["monotonic_s"].get<double>(), 812.625);
  EXPECT_DOUBLE_EQ(j["victim"]["unix_time"].get<double>(), 1796591645.125);
  EXPECT_DOUBLE_EQ(j["monotonic_s"].get<double>(), 812.750);
  EXPECT_NEAR(j["oom_to_report_ms"].get<double>(), 125.0, 1e-6);
}

TEST(CaptureManifest, ReadsBackWhatItWrote) {
  const CaptureSummary c = read_capture_manifest(render_capture_manifest(oom_capture()), "capture.json");
  ASSERT_TRUE(c.victim);
  EXPECT_DOUBLE_EQ(c.victim->monotonic_s, 812.625);
  EXPECT_DOUBLE_EQ(c.monotonic_s, 812.750);
  EXPECT_EQ(c.files, oom_capture().files);
}

TEST(CaptureManifest, WithoutAKernelTimeTheDelayIsUnknownNotZero) {
  CaptureSummary c = oom_capture();
  c.victim->monotonic_s = 0;
  EXPECT_TRUE(nlohmann::json::parse(render_capture_manifest(c))["oom_to_report_ms"].is_null());
  c.trigger = CaptureTrigger::signal;
  c.victim.reset();
  EXPECT_TRUE(nlohmann::json::parse(render_capture_manifest(c))["oom_to_report_ms"].is_null());
  // A manifest from before these fields still reads.
  auto old = nlohmann::json::parse(render_capture_manifest(oom_capture()));
  old.erase("monotonic_s");
  old.erase("oom_to_report_ms");
  old["victim"].erase("monotonic_s");
  const CaptureSummary r = read_capture_manifest(old.dump(), "capture.json");
  EXPECT_EQ(r.monotonic_s, 0);
  EXPECT_FALSE(oom_to_report_ms(r));
}

TEST(CapturesTable, SaysWhenTheVictimWasMarkedAndWhereTheProfileIs) {
  std::ostringstream os;
  write_captures_table(os, "/var/lib/slableak/captures", {oom_capture()});
  const std::string out = os.str();
  EXPECT_NE(out.find("OOM victim: pid 512 (holder) in cgroup /system.slice/holder.service, marked at 21:14:05.125 UTC, "
                     "report taken 125 ms later\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("    profile: /var/lib/slableak/captures/20261206T211405.250Z-oom/profile.pb.gz\n"),
            std::string::npos)
      << out;
}

// A victim's name is whatever the process chose, cut by the kernel at 15
// bytes (mid-character for most non-ASCII names): the manifest is still
// written (it threw on invalid UTF-8 and ended the exporter), and the table
// of `slableak captures` carries no raw control byte from any file.
TEST(CaptureManifest, HostileNamesNeitherThrowNorReachTheTerminal) {
  CaptureSummary c = oom_capture();
  c.victim->comm = "\xd0\x9f\xd1\x80\xd0";   // Cyrillic cut mid-character
  c.victim->cgroup = "/evil\x1b]52;c;AAAA\x07";
  c.reason = "OOM killer marked pid 512 (\xff\x1b[2J)";
  c.top_frame = "fn\x1b[31m";
  std::string text;
  ASSERT_NO_THROW(text = render_capture_manifest(c));
  const CaptureSummary back = read_capture_manifest(text, "capture.json");
  std::ostringstream table;
  write_captures_table(table, "/var/lib/slableak/captures", {back, c});
  for (const char ch : table.str()) EXPECT_FALSE(ch == '\x1b' || ch == '\x07') << table.str();
}
