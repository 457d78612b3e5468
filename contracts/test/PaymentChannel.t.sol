// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceFixture} from "./InferenceFixture.sol";
import {PaymentChannel} from "../src/inference/PaymentChannel.sol";
import {InferenceErrors} from "../src/inference/InferenceErrors.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice PaymentChannel: the life of a channel, and the attacks on it performed and
///         shown to fail (replays, vouchers of another chain, contract or channel,
///         over-spending, claims after a reclaim, early reclaims, double claims).
contract PaymentChannelTest is InferenceFixture {
    function setUp() public {
        deployInference();
    }

    /// The claim must fail because the voucher does not recover to the channel's client
    /// here (it was signed for another domain or channel): the signer it recovers to is named.
    function expectWrongSigner(bytes32 id, uint256 cumulative, bytes memory signature) internal {
        address recovered = ECDSA.recover(channels.voucherDigest(id, cumulative), signature);
        assertTrue(recovered != client, "recovers to someone else");
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.InvalidVoucherSigner.selector, recovered, client));
    }

    function test_openClaimWithoutClosingTopUpReclaim() public {
        bytes32 id = openChannel(100 ether, 1 days);
        assertEq(token.balanceOf(address(channels)), 100 ether, "deposit held");
        // Concurrent requests: vouchers for 3 and 7 signed out of order; the newest total pays.
        bytes memory v3 = voucher(id, 3 ether);
        bytes memory v7 = voucher(id, 7 ether);
        channels.claim(id, 7 ether, v7);
        assertEq(token.balanceOf(provider), FUNDS + 7 ether, "provider paid the total");
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.VoucherNotNewer.selector, id, 3 ether, 7 ether));
        channels.claim(id, 3 ether, v3);
        // Still open: more requests, another claim pays the difference.
        vm.prank(provider);
        channels.claim(id, 20 ether, voucher(id, 20 ether));
        assertEq(token.balanceOf(provider), FUNDS + 20 ether, "difference paid");
        // The client tops up and extends.
        vm.prank(client);
        channels.topUp(id, 50 ether, uint64(block.timestamp) + 2 days);
        PaymentChannel.Channel memory c = channels.channel(id);
        assertEq(c.deposit, 150 ether, "topped up");
        assertEq(c.expiry, uint64(block.timestamp) + 2 days, "extended");
        channels.claim(id, 120 ether, voucher(id, 120 ether));
        vm.warp(block.timestamp + 2 days);
        uint256 before = token.balanceOf(client);
        vm.prank(client);
        channels.reclaim(id);
        assertEq(token.balanceOf(client) - before, 30 ether, "the rest refunded");
        assertEq(token.balanceOf(address(channels)), 0, "nothing left");
        assertEq(channels.totalHeld(), 0, "books closed");
        // The pair can open again, under a new id.
        bytes32 next = openChannel(1 ether, 1 days);
        assertTrue(next != id, "new channel id");
    }

    function test_attack_replayedVoucher() public {
        bytes32 id = openChannel(100 ether, 1 days);
        bytes memory v = voucher(id, 10 ether);
        channels.claim(id, 10 ether, v);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.VoucherNotNewer.selector, id, 10 ether, 10 ether));
        channels.claim(id, 10 ether, v);
        assertEq(token.balanceOf(provider), FUNDS + 10 ether, "paid once");
    }

    function test_attack_providerClaimsTwiceThroughAReopenedChannel() public {
        bytes32 id = openChannel(10 ether, 1 days);
        bytes memory v = voucher(id, 4 ether);
        channels.claim(id, 4 ether, v);
        vm.warp(block.timestamp + 1 days);
        vm.prank(client);
        channels.reclaim(id);
        bytes32 next = openChannel(10 ether, 1 days);
        // The old voucher names the old channel: the new one does not pay it.
        expectWrongSigner(next, 4 ether, v);
        channels.claim(next, 4 ether, v);
    }

    function test_attack_voucherOfAnotherChainId() public {
        bytes32 id = openChannel(100 ether, 1 days);
        uint256 here = block.chainid;
        signer.chainId(here + 1);
        bytes memory elsewhere = voucher(id, 10 ether);
        signer.chainId(here);
        expectWrongSigner(id, 10 ether, elsewhere);
        channels.claim(id, 10 ether, elsewhere);
    }

    function test_attack_voucherOfAnotherContract() public {
        bytes32 id = openChannel(100 ether, 1 days);
        PaymentChannel other = new PaymentChannel(token);
        bytes memory forOther = sign(CLIENT_KEY, other.voucherDigest(id, 10 ether));
        expectWrongSigner(id, 10 ether, forOther);
        channels.claim(id, 10 ether, forOther);
    }

    function test_attack_voucherOfAnotherChannel() public {
        bytes32 id = openChannel(100 ether, 1 days);
        address provider2 = address(0x2003);
        vm.prank(client);
        bytes32 id2 = channels.open(provider2, 100 ether, uint64(block.timestamp) + 1 days);
        bytes memory forSecond = voucher(id2, 10 ether);
        expectWrongSigner(id, 10 ether, forSecond);
        channels.claim(id, 10 ether, forSecond);
        // A voucher signed by someone else than the client.
        bytes memory forged = sign(OTHER_KEY, channels.voucherDigest(id, 10 ether));
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.InvalidVoucherSigner.selector, vm.addr(OTHER_KEY), client));
        channels.claim(id, 10 ether, forged);
    }

    function test_attack_overspentChannel() public {
        bytes32 id = openChannel(10 ether, 1 days);
        bytes memory v = voucher(id, 11 ether);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.Overspent.selector, id, 11 ether, 10 ether));
        channels.claim(id, 11 ether, v);
        // A top-up makes the same voucher good: the client did sign it.
        vm.prank(client);
        channels.topUp(id, 1 ether, uint64(block.timestamp) + 1 days);
        channels.claim(id, 11 ether, v);
        assertEq(token.balanceOf(provider), FUNDS + 11 ether, "paid after the top-up");
    }

    function test_attack_claimAfterReclaim() public {
        bytes32 id = openChannel(10 ether, 1 days);
        bytes memory v = voucher(id, 5 ether);
        vm.warp(block.timestamp + 1 days);
        vm.prank(client);
        channels.reclaim(id);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.ChannelNotOpen.selector, id));
        channels.claim(id, 5 ether, v);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.ChannelNotOpen.selector, id));
        vm.prank(client);
        channels.reclaim(id);
    }

    function test_attack_clientReclaimsBeforeExpiry() public {
        bytes32 id = openChannel(10 ether, 1 days);
        uint64 expiry = uint64(block.timestamp) + 1 days;
        vm.warp(expiry - 1);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.NotExpired.selector, id, expiry, expiry - 1));
        vm.prank(client);
        channels.reclaim(id);
        // A provider that has not claimed yet still can, after expiry, until the client reclaims.
        vm.warp(expiry + 1 hours);
        channels.claim(id, 5 ether, voucher(id, 5 ether));
        assertEq(token.balanceOf(provider), FUNDS + 5 ether, "late claim paid");
    }

    function test_attack_othersCannotTopUpShortenOrReclaim() public {
        bytes32 id = openChannel(10 ether, 1 days);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.NotClient.selector, provider, client));
        vm.prank(provider);
        channels.topUp(id, 0, uint64(block.timestamp) + 1 days);
        uint64 expiry = uint64(block.timestamp) + 1 days;
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.ExpiryNotLater.selector, expiry - 1, expiry));
        vm.prank(client);
        channels.topUp(id, 0, expiry - 1);
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.NotClient.selector, provider, client));
        vm.prank(provider);
        channels.reclaim(id);
        vm.expectRevert(abi.encodeWithSelector(InferenceErrors.ChannelAlreadyOpen.selector, id));
        vm.prank(client);
        channels.open(provider, 1 ether, expiry + 1 days);
    }

    function testFuzz_paymentsConserveTokens(uint256 deposit, uint256 first, uint256 second) public {
        deposit = bound(deposit, 1, FUNDS);
        first = bound(first, 1, deposit);
        second = bound(second, first, deposit);
        bytes32 id = openChannel(deposit, 1 days);
        channels.claim(id, first, voucher(id, first));
        if (second > first) channels.claim(id, second, voucher(id, second));
        assertEq(token.balanceOf(address(channels)), channels.totalHeld(), "held == open deposits - claims");
        vm.warp(block.timestamp + 1 days);
        uint256 before = token.balanceOf(client);
        vm.prank(client);
        channels.reclaim(id);
        assertEq(token.balanceOf(provider) - FUNDS + token.balanceOf(client) - before, deposit, "deposit split between provider and client");
        assertEq(token.balanceOf(address(channels)), 0, "nothing stays");
    }
}
