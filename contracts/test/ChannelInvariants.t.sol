// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {InferenceFixture, VmSign} from "./InferenceFixture.sol";
import {CommonsToken} from "../src/CommonsToken.sol";
import {PaymentChannel} from "../src/inference/PaymentChannel.sol";

/// @notice Drives channels through random opens, top-ups, claims, replays and reclaims by
///         three clients (with keys) and two providers, keeping ghost books. It also tries
///         what must fail (a voucher paid twice, an older voucher after a newer one, a
///         claim after a reclaim, a reclaim before expiry) and counts every time it did not.
contract ChannelHandler is TestBase {
    VmSign internal constant signer = VmSign(address(uint160(uint256(keccak256("hevm cheat code")))));
    CommonsToken internal token;
    PaymentChannel internal channels;
    uint256[] internal keys;
    address[] internal providers;
    bytes32[] public ids;

    uint256 public ghostDeposited;
    uint256 public ghostPaid;
    uint256 public ghostRefunded;
    uint256 public wrongPayments; // a replayed, older, closed-channel or over-deposit claim that paid: must stay zero
    uint256 public earlyReclaims; // a reclaim before expiry that went through: must stay zero
    mapping(bytes32 => uint256) public highestSigned;
    mapping(bytes32 => bytes) internal lastVoucher;
    mapping(bytes32 => uint256) internal lastCumulative;

    constructor(CommonsToken token_, PaymentChannel channels_, uint256[] memory keys_, address[] memory providers_) {
        token = token_;
        channels = channels_;
        keys = keys_;
        providers = providers_;
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }

    function channel(uint256 seed) internal view returns (bytes32 id, bool ok) {
        if (ids.length == 0) return (bytes32(0), false);
        return (ids[seed % ids.length], true);
    }

    function keyOf(address client) internal view returns (uint256) {
        for (uint256 i = 0; i < keys.length; i++) if (vm.addr(keys[i]) == client) return keys[i];
        return 0;
    }

    function sign(bytes32 id, uint256 cumulative) internal returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = signer.sign(keyOf(channels.channel(id).client), channels.voucherDigest(id, cumulative));
        if (cumulative > highestSigned[id]) highestSigned[id] = cumulative;
        return abi.encodePacked(r, s, v);
    }

    function open(uint256 clientSeed, uint256 providerSeed, uint256 amount, uint256 duration) external {
        address client = vm.addr(keys[clientSeed % keys.length]);
        address provider = providers[providerSeed % providers.length];
        if (channels.channelOf(client, provider) != bytes32(0)) return;
        amount = bound(amount, 1, 1_000 ether);
        duration = bound(duration, 1, 30 days);
        vm.prank(client);
        bytes32 id = channels.open(provider, amount, uint64(block.timestamp + duration));
        ids.push(id);
        ghostDeposited += amount;
    }

    function topUp(uint256 seed, uint256 amount, uint256 extra) external {
        (bytes32 id, bool ok) = channel(seed);
        PaymentChannel.Channel memory c = channels.channel(id);
        if (!ok || !c.open) return;
        amount = bound(amount, 0, 100 ether);
        vm.prank(c.client);
        channels.topUp(id, amount, c.expiry + uint64(bound(extra, 0, 7 days)));
        ghostDeposited += amount;
    }

    /// A voucher for a random total, possibly below what was claimed or above the deposit.
    function claim(uint256 seed, uint256 cumulative) external {
        (bytes32 id, bool ok) = channel(seed);
        if (!ok) return;
        PaymentChannel.Channel memory c = channels.channel(id);
        cumulative = bound(cumulative, 1, c.deposit + 10 ether);
        bytes memory voucher = sign(id, cumulative);
        uint256 before = token.balanceOf(c.provider);
        try channels.claim(id, cumulative, voucher) {
            uint256 paid = token.balanceOf(c.provider) - before;
            if (!c.open || cumulative <= c.claimed || cumulative > c.deposit || paid != cumulative - c.claimed) wrongPayments++;
            ghostPaid += paid;
            lastVoucher[id] = voucher;
            lastCumulative[id] = cumulative;
        } catch {
            if (c.open && cumulative > c.claimed && cumulative <= c.deposit) wrongPayments++; // an honest claim refused counts too
        }
    }

    /// The last paid voucher of a channel, sent again.
    function replay(uint256 seed) external {
        (bytes32 id, bool ok) = channel(seed);
        if (!ok || lastVoucher[id].length == 0) return;
        try channels.claim(id, lastCumulative[id], lastVoucher[id]) {
            wrongPayments++;
        } catch {}
    }

    function reclaim(uint256 seed) external {
        (bytes32 id, bool ok) = channel(seed);
        PaymentChannel.Channel memory c = channels.channel(id);
        if (!ok || !c.open) return;
        uint256 before = token.balanceOf(c.client);
        vm.prank(c.client);
        try channels.reclaim(id) {
            if (block.timestamp < c.expiry) earlyReclaims++;
            ghostRefunded += token.balanceOf(c.client) - before;
        } catch {}
    }

    function warp(uint256 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 10 days));
    }
}

/// @notice System properties of the PaymentChannel under random use.
contract ChannelInvariantsTest is InferenceFixture {
    ChannelHandler internal handler;

    function setUp() public {
        deployInference();
        uint256[] memory keys = new uint256[](3);
        address[] memory providers = new address[](2);
        (keys[0], keys[1], keys[2]) = (0xA11CE, 0xB0B, 0xCA401);
        (providers[0], providers[1]) = (provider, address(0x2003));
        handler = new ChannelHandler(token, channels, keys, providers);
        for (uint256 i = 0; i < keys.length; i++) {
            address c = vm.addr(keys[i]);
            token.transfer(c, FUNDS);
            vm.prank(c);
            token.approve(address(channels), type(uint256).max);
        }
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// Tokens held == the counter == Σ (deposit − claimed) of open channels == in − out.
    function invariant_tokensHeldEqualOpenDeposits() public view {
        uint256 open;
        for (uint256 i = 0; i < handler.idCount(); i++) {
            PaymentChannel.Channel memory c = channels.channel(handler.ids(i));
            if (c.open) open += c.deposit - c.claimed;
        }
        assertEq(token.balanceOf(address(channels)), open, "held == open deposits - claims");
        assertEq(channels.totalHeld(), open, "counter");
        assertEq(handler.ghostDeposited(), handler.ghostPaid() + handler.ghostRefunded() + open, "in == paid + refunded + held");
    }

    /// No provider is paid more than its client signed for, nor twice for one voucher.
    function invariant_providersPaidOnlyWhatWasSigned() public view {
        assertEq(handler.wrongPayments(), 0, "wrong payments");
        assertEq(handler.earlyReclaims(), 0, "early reclaims");
        for (uint256 i = 0; i < handler.idCount(); i++) {
            bytes32 id = handler.ids(i);
            assertTrue(channels.channel(id).claimed <= handler.highestSigned(id), "claimed <= signed");
        }
    }
}
