// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceDisputesTest} from "./InferenceDisputes.t.sol";
import {DisputeGameTypes} from "../src/dispute/DisputeGameTypes.sol";
import {InferenceDisputeTypes} from "../src/inference/InferenceDisputeTypes.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";

/// @notice The paying client of a wrong answer gets its cost back from the convicted
///         provider's stake, before the challenger's share, whoever the challenger is;
///         once per payment; never from anyone else's stake. (The bigram model and the
///         moves are InferenceDisputesTest's; its tests run here too.)
contract InferenceRefundsTest is InferenceDisputesTest {
    uint256 internal constant COST = 3 ether;
    bytes32 internal paid; // the client's channel to the lying provider

    function _paidSetUp() internal {
        vm.prank(client);
        token.approve(address(channels), type(uint256).max);
        vm.prank(client);
        paid = channels.open(liar, 50 ether, uint64(block.timestamp) + 30 days);
        vm.prank(challenger);
        token.approve(address(game), type(uint256).max);
    }

    /// @dev A claim over an answer paid on `channel_` with a voucher total of `cumulative`.
    function _paidClaim(uint32[] memory output, uint32 index, bytes32 channel_, uint256 cost, uint256 cumulative)
        internal
        view
        returns (InferenceDisputeTypes.Claim memory c)
    {
        c = _claim(output, index, PROVIDER_KEY);
        c.receipt.channel = channel_;
        c.receipt.cost = cost;
        c.receipt.cumulative = cumulative;
        c.receipt.spent = cumulative;
        c.signature = sign(PROVIDER_KEY, game.receiptDigest(c.receipt));
    }

    /// @dev A lie (the answer's first token is not the pick) disputed by `by`; the
    ///      provider's honest trace picks otherwise, so it loses at its trace.
    function _convict(InferenceDisputeTypes.Claim memory c, address by) internal returns (uint256 id) {
        vm.prank(by);
        id = game.open(c);
        uint32[] memory window = _window(c.output, c.index);
        _postTrace(id, _gather(table, window), _pick(table, window));
        assertEq(uint8(game.getDispute(id).phase), uint8(DisputeGameTypes.Phase.Resolved), "convicted at its trace");
    }

    function _lie() internal view returns (uint32[] memory output) {
        output = _answer(table, 2);
        output[0] = (output[0] + 3) % V;
    }

    /// @notice A challenger who is not the client convicts the liar: the client gets the
    ///         answer's cost, the challenger its bond and its share of the rest only.
    function test_attack_challengerWhoIsNotTheClient_cannotTakeTheRefund() public {
        _paidSetUp();
        uint256 clientBefore = token.balanceOf(client);
        uint256 challengerBefore = token.balanceOf(challenger);
        InferenceDisputeTypes.Claim memory c = _paidClaim(_lie(), 0, paid, COST, COST);
        _convict(c, challenger);
        uint256 rest = 40 ether - COST;
        assertEq(token.balanceOf(client), clientBefore + COST, "the paying client is refunded");
        assertEq(token.balanceOf(challenger), challengerBefore + rest / 2, "the challenger: its bond back and half the rest");
        assertEq(token.balanceOf(treasuryAddr), rest - rest / 2, "the treasury: the other half of the rest");
        assertEq(services.service(serviceId).stake, 0, "the service's stake is slashed");
        assertTrue(game.refunded(keccak256(abi.encode(paid, COST))), "the payment is marked refunded");
    }

    /// @notice A receipt naming a channel that does not pay this provider (here, the
    ///         client's channel to another provider) refunds no one: a challenger cannot
    ///         route the refund by choosing the channel, and the provider signs its own.
    function test_attack_channelOfAnotherPair_refundsNoOne() public {
        _paidSetUp();
        vm.prank(client);
        bytes32 other = channels.open(provider, 5 ether, uint64(block.timestamp) + 30 days);
        uint256 clientBefore = token.balanceOf(client);
        InferenceDisputeTypes.Claim memory c = _paidClaim(_lie(), 0, other, COST, COST);
        uint256 id = _convict(c, challenger);
        (address to, uint96 amount,) = game.refundOf(id);
        assertEq(to, address(0), "no refund noted");
        assertEq(amount, 0, "no refund noted");
        assertEq(token.balanceOf(client), clientBefore, "the client of the other channel gets nothing");
        assertEq(token.balanceOf(treasuryAddr), 20 ether, "the whole stake split as before");
    }

    /// @notice Two disputes of one paid answer (the same receipt, two of its tokens; and a
    ///         second receipt the provider signs for the same payment) refund it once.
    function test_attack_oneReceiptTwoDisputes_refundedOnce() public {
        _paidSetUp();
        uint32[] memory output = _lie();
        output[1] = (output[1] + 3) % V; // a second wrong token
        InferenceDisputeTypes.Claim memory c = _paidClaim(output, 0, paid, COST, COST);
        InferenceDisputeTypes.Claim memory c2 = _paidClaim(output, 1, paid, COST, COST);
        InferenceDisputeTypes.Claim memory again = _paidClaim(output, 0, paid, 2 * COST, COST); // same payment, new receipt
        vm.startPrank(challenger);
        uint256 a = game.open(c);
        uint256 b = game.open(c2);
        uint256 d = game.open(again);
        vm.stopPrank();
        uint256 clientBefore = token.balanceOf(client);
        vm.warp(block.timestamp + 1 hours + 1);
        game.timeout(a);
        game.timeout(b);
        game.timeout(d);
        assertEq(token.balanceOf(client), clientBefore + COST, "refunded once");
        (, uint96 owed, bytes32 payment) = game.refundOf(d);
        assertEq(owed, 2 * COST, "the second receipt claimed more");
        assertTrue(game.refunded(payment), "but its payment was refunded already");
    }

    /// @notice An honest provider disputed over a paid answer pays nothing: its stake is
    ///         intact, it takes the bond, and the client is not refunded.
    function test_honestProviderDisputed_paysNoRefund() public {
        _paidSetUp();
        uint32[] memory output = _answer(table, 3);
        InferenceDisputeTypes.Claim memory c = _paidClaim(output, 2, paid, COST, COST);
        vm.prank(client);
        uint256 id = game.open(c);
        uint32[] memory gathered = _gather(table, _window(output, 2));
        _postTrace(id, gathered, output[2]);
        _pinpoint(id, 1, 0, _window(output, 2), gathered, output[2]);
        uint256 clientBefore = token.balanceOf(client);
        uint256 liarBefore = token.balanceOf(liar);
        _reveal(id, 1, 0, gathered, output[2]);
        assertEq(uint8(game.getDispute(id).reason), uint8(DisputeGameTypes.Reason.Match), "match");
        assertEq(services.service(serviceId).stake, 40 ether, "stake intact");
        assertEq(token.balanceOf(liar), liarBefore + game.bond(), "the bond to the provider");
        assertEq(token.balanceOf(client), clientBefore, "no refund");
        assertTrue(!game.refunded(keccak256(abi.encode(paid, COST))), "the payment is still refundable");
    }

    /// @notice A receipt whose cost exceeds the service's stake refunds at most a tenth of
    ///         it (MAX_REFUND_BPS): the provider's free stake, another provider's service
    ///         stake and the bonds the game holds for other disputes are untouched.
    function test_attack_refundLargerThanTheStake_cannotDrainOthers() public {
        _paidSetUp();
        stakeAs(provider, 30 ether, 0);
        vm.prank(provider);
        uint256 otherService = services.register(modelRoot, hex"0155", 1 ether, "peer2", 20 ether);
        uint32[] memory honest = _answer(table, 3);
        InferenceDisputeTypes.Claim memory pending = _paidClaim(honest, 2, paid, COST, COST);
        vm.prank(client);
        game.open(pending); // a bond held for another dispute
        uint256 gameBefore = token.balanceOf(address(game));
        uint256 clientBefore = token.balanceOf(client);
        uint256 challengerBefore = token.balanceOf(challenger);
        _convict(_paidClaim(_lie(), 0, paid, 1_000 ether, 1_000 ether), challenger);
        assertEq(token.balanceOf(client), clientBefore + 4 ether, "the client gets a tenth of the stake, no more");
        assertEq(token.balanceOf(challenger), challengerBefore + 18 ether, "the challenger: its bond back and half the rest");
        assertEq(token.balanceOf(treasuryAddr), 18 ether, "the treasury: the other half");
        assertEq(token.balanceOf(address(game)), gameBefore, "other disputes' bonds untouched");
        assertEq(services.service(otherService).stake, 20 ether, "another provider's service untouched");
        StakeRegistry.Node memory n = registry.nodeOf(liar);
        assertEq(n.staked, 60 ether, "the liar's free stake untouched");
        assertEq(n.locked, 0, "nothing locked left");
        assertEq(registry.nodeOf(provider).locked, 20 ether, "the other provider's lock untouched");
    }

    /// @notice A provider that lies to a client of its own (who also challenges), with a
    ///         receipt claiming a huge cost, to get its stake back before an honest dispute
    ///         ends: it still loses 45% of the stake to the treasury.
    function test_attack_providerRefundingItself_stillLosesMostOfTheStake() public {
        vm.prank(challenger);
        token.approve(address(channels), type(uint256).max);
        vm.prank(challenger);
        bytes32 own = channels.open(liar, 1 ether, uint64(block.timestamp) + 30 days);
        vm.prank(challenger);
        token.approve(address(game), type(uint256).max);
        uint256 puppetBefore = token.balanceOf(challenger);
        _convict(_paidClaim(_lie(), 0, own, 1_000 ether, 1 ether), challenger);
        assertEq(token.balanceOf(challenger), puppetBefore + 4 ether + 18 ether, "the puppet gets the capped refund and the challenger's share");
        assertEq(token.balanceOf(treasuryAddr), 18 ether, "45% of the stake is lost to the treasury");
    }
}
