// The task registry: progress, finishing, close, stop, unfinished count, clean-up, thread safety.
#include "tessera/core/task_manager.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <regex>
#include <set>
#include <thread>
#include <vector>

using tessera::core::TaskManager;
using tessera::core::TaskReport;

TEST_CASE("a new task is listed unfinished with progress 0 and a UUID v4", "[tasks]") {
    TaskManager manager;
    const auto before = std::chrono::system_clock::now();
    auto task = manager.create("[xapian]index file:/data");
    const auto info = task->info();
    CHECK(
        std::regex_match(info.uid, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
    CHECK(info.name == "[xapian]index file:/data");
    CHECK(info.progress == 0.0);
    CHECK_FALSE(info.done);
    CHECK_FALSE(info.cancelled);
    CHECK_FALSE(info.report);
    CHECK(info.created >= before);
    CHECK(info.created <= std::chrono::system_clock::now());

    REQUIRE(manager.list().size() == 1);
    CHECK(manager.list()[0].uid == info.uid);
    CHECK(manager.find(info.uid)->name == info.name);
    CHECK_FALSE(manager.find("no-such-task"));
    CHECK(manager.unfinishedCount() == 1);
}

TEST_CASE("uids are unique", "[tasks]") {
    std::set<std::string> uids;
    for (int i = 0; i < 10000; ++i) uids.insert(tessera::core::makeUuidV4());
    CHECK(uids.size() == 10000);
}

TEST_CASE("progress is clamped, unknown is -1, and finishing reports", "[tasks]") {
    TaskManager manager;
    auto task = manager.create("t");
    task->setProgress(0.25);
    CHECK(manager.find(task->uid())->progress == Approx(0.25));
    task->setProgress(7.0);
    CHECK(manager.find(task->uid())->progress == 1.0);
    task->setProgress(-0.5);
    CHECK(manager.find(task->uid())->progress == -1.0);

    TaskReport report;
    report.indexed = 10;
    report.errors = 2;
    report.skipped = 1;
    report.elapsed = std::chrono::milliseconds(1234);
    task->finish(report, false);
    auto info = *manager.find(task->uid());
    CHECK(info.done);
    CHECK_FALSE(info.cancelled);
    CHECK(info.progress == 1.0);
    REQUIRE(info.report);
    CHECK(info.report->indexed == 10);
    CHECK(info.report->errors == 2);
    CHECK(info.report->skipped == 1);
    CHECK(info.report->elapsed.count() == 1234);
    CHECK(manager.unfinishedCount() == 0);

    // Later updates of a finished task change nothing.
    task->setProgress(0.1);
    task->finish({}, true);
    info = *manager.find(task->uid());
    CHECK(info.progress == 1.0);
    CHECK_FALSE(info.cancelled);
    CHECK(info.report->indexed == 10);
}

TEST_CASE("stop raises the flag of a running task only", "[tasks]") {
    TaskManager manager;
    auto task = manager.create("t");
    CHECK_FALSE(task->stopRequested());
    CHECK_FALSE(manager.stop("unknown"));
    CHECK(manager.stop(task->uid()));
    CHECK(task->stopRequested());
    // Still unfinished until the runner says so.
    CHECK(manager.unfinishedCount() == 1);
    task->setProgress(0.4);
    task->finish({}, true);
    const auto info = *manager.find(task->uid());
    CHECK(info.done);
    CHECK(info.cancelled);
    CHECK(info.progress == Approx(0.4));  // where it stopped
    CHECK(manager.unfinishedCount() == 0);
    CHECK_FALSE(manager.stop(task->uid()));  // already finished

    auto other = manager.create("u");
    manager.stopAll();
    CHECK(other->stopRequested());
}

TEST_CASE("close removes finished tasks only", "[tasks]") {
    TaskManager manager;
    auto running = manager.create("running");
    auto finished = manager.create("finished");
    finished->finish({}, false);
    CHECK_FALSE(manager.close("unknown"));
    CHECK_FALSE(manager.close(running->uid()));
    CHECK(manager.find(running->uid()));
    CHECK(manager.close(finished->uid()));
    CHECK_FALSE(manager.find(finished->uid()));
    CHECK_FALSE(manager.close(finished->uid()));
    CHECK(manager.list().size() == 1);

    // The handle of a closed task stays usable and changes nothing listed.
    finished->setProgress(0.5);
    CHECK(manager.list().size() == 1);
}

TEST_CASE("listing keeps creation order and the count covers unfinished tasks", "[tasks]") {
    TaskManager manager;
    std::vector<std::shared_ptr<tessera::core::TaskHandle>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(manager.create(std::string("t") + std::to_string(i)));
    tasks[1]->finish({}, false);
    tasks[3]->finish({}, true);
    const auto list = manager.list();
    REQUIRE(list.size() == 5);
    for (int i = 0; i < 5; ++i) CHECK(list[static_cast<std::size_t>(i)].name == std::string("t") + std::to_string(i));
    CHECK(manager.unfinishedCount() == 3);
}

TEST_CASE("above the cap the oldest finished tasks are dropped, running ones never", "[tasks]") {
    TaskManager manager(3);
    auto running = manager.create("running");
    std::vector<std::shared_ptr<tessera::core::TaskHandle>> finished;
    for (int i = 0; i < 6; ++i) {
        finished.push_back(manager.create(std::string("f") + std::to_string(i)));
        finished.back()->finish({}, i % 2 == 1);
    }
    const auto list = manager.list();
    REQUIRE(list.size() == 4);
    CHECK(list[0].uid == running->uid());
    CHECK(list[1].name == "f3");
    CHECK(list[2].name == "f4");
    CHECK(list[3].name == "f5");
    CHECK(manager.unfinishedCount() == 1);
}

TEST_CASE("concurrent creation, updates, stops and listing", "[tasks][threads]") {
    TaskManager manager(50);
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            while (!go.load()) std::this_thread::yield();
            for (int i = 0; i < 200; ++i) {
                auto task = manager.create("t");
                task->setProgress(0.5);
                manager.stop(task->uid());
                manager.list();
                task->finish({}, task->stopRequested());
                manager.close(task->uid());
            }
        });
    }
    go = true;
    for (auto& thread : threads) thread.join();
    CHECK(manager.unfinishedCount() == 0);
    CHECK(manager.list().empty());
}
