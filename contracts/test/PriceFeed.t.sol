// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {PriceFeed} from "../src/PriceFeed.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract PriceFeedTest is TestBase {
    PriceFeed internal feed;
    address internal operator = address(0x0BE);

    function setUp() public {
        feed = new PriceFeed(operator, 8, "ETH / USD");
    }

    function test_latestRoundDataFollowsUpdates() public {
        vm.warp(1_000);
        vm.prank(operator);
        feed.update(3_000e8);
        vm.warp(2_000);
        vm.prank(operator);
        feed.update(3_100e8);
        (uint80 round, int256 answer,, uint256 updatedAt, uint80 answeredIn) = feed.latestRoundData();
        assertEq(round, 2, "round");
        assertEq(uint256(answer), 3_100e8, "answer");
        assertEq(updatedAt, 2_000, "updatedAt");
        assertEq(answeredIn, 2, "answeredInRound");
        (, int256 first,,,) = feed.getRoundData(1);
        assertEq(uint256(first), 3_000e8, "history kept");
        assertEq(feed.decimals(), 8, "decimals");
    }

    function test_onlyOperatorUpdates() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        feed.update(1);
    }

    function test_noDataBeforeFirstUpdate() public {
        vm.expectRevert(abi.encodeWithSelector(PriceFeed.NoData.selector, uint80(0)));
        feed.latestRoundData();
    }

    function testFuzz_anyAnswerRoundTrips(int256 answer) public {
        vm.warp(5);
        vm.prank(operator);
        feed.update(answer);
        (, int256 got,,,) = feed.latestRoundData();
        assertTrue(got == answer, "answer");
    }
}
