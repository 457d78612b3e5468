// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "../Fixture.sol";
import {StorageMarket} from "../../src/storage/StorageMarket.sol";
import {StorageMarketTypes} from "../../src/storage/StorageMarketTypes.sol";
import {StorageProofs} from "../../src/storage/StorageProofs.sol";
import {StorageFixtureData as F} from "./StorageFixtureData.sol";
import {Log, StorageProofBuilder, StorageVm} from "./StorageTestKit.sol";

/// @notice Storage deals end to end on the real contract set: providers prove and are paid,
///         a missed epoch slashes to the funder and a new provider takes the slot, and the
///         attacks on timing, slots and escrow fail with their errors.
contract StorageMarketTest is Fixture {
    event log_named_uint(string key, uint256 val);
    event DataUnheld(uint256 indexed dealId, uint32 epoch);

    StorageVm internal constant svm = StorageVm(address(uint160(uint256(keccak256("hevm cheat code")))));
    StorageMarket internal storageMarket;
    StorageProofBuilder internal builder;

    address internal funder = requester; // stands in for a DAO's treasury
    address internal p1 = trainer;
    address internal p2 = validator;
    address internal p3 = validator2;

    uint32 internal constant FINALITY = 2;
    uint32 internal constant WINDOW = 10;
    uint128 internal constant PRICE = 10 ether;
    uint128 internal constant COLLATERAL = 100 ether;

    function setUp() public {
        deployAll();
        storageMarket = new StorageMarket(token, registry, FINALITY, WINDOW);
        builder = new StorageProofBuilder();
        vm.startPrank(governance);
        registry.setLocker(address(storageMarket), true);
        registry.setSlasher(address(storageMarket), true);
        vm.stopPrank();
        stakeAs(p1, 1_000 ether, 0);
        stakeAs(p2, 1_000 ether, 0);
        stakeAs(p3, 1_000 ether, 0);
        vm.prank(funder);
        token.approve(address(storageMarket), type(uint256).max);
    }

    function terms(uint16 replicas) internal pure returns (StorageMarketTypes.DealTerms memory) {
        return StorageMarketTypes.DealTerms({
            replicas: replicas, epochs: 6, epochBlocks: 20, pricePerEpoch: PRICE, collateral: COLLATERAL, slashBps: 5_000
        });
    }

    function create(uint16 replicas) internal returns (uint256 dealId) {
        vm.prank(funder);
        dealId = storageMarket.createDeal(F.commit(), terms(replicas));
    }

    function joinAs(address p, uint256 dealId, uint256 slot) internal {
        vm.prank(p);
        storageMarket.join(dealId, slot);
    }

    /// Rolls into the epoch's proof window (giving its challenge block a hash) and builds the
    /// proof the drawn seed asks for, as a storer does from its blockstore.
    function challenge(uint256 dealId, uint256 slot, uint32 epoch) internal returns (bytes[] memory nodes, bytes memory leaf) {
        (uint64 opens,) = storageMarket.proofWindowOf(dealId, epoch);
        if (block.number < opens) vm.roll(opens);
        uint256 challengeBlock = opens - FINALITY;
        svm.setBlockhash(challengeBlock, keccak256(abi.encode("block", challengeBlock)));
        uint256 seed = storageMarket.challengeSeed(dealId, slot, epoch);
        (nodes, leaf) = builder.build(F.TREE, seed, F.blocks());
    }

    /// A one-replica deal held by p1, and the proof its challenge for `epoch` draws.
    function soloChallenge(uint32 epoch) internal returns (uint256 dealId, bytes[] memory nodes, bytes memory leaf) {
        dealId = create(1);
        joinAs(p1, dealId, 0);
        (nodes, leaf) = challenge(dealId, 0, epoch);
    }

    function proveAs(address p, uint256 dealId, uint256 slot, uint32 epoch) internal {
        (bytes[] memory nodes, bytes memory leaf) = challenge(dealId, slot, epoch);
        vm.prank(p);
        uint256 before = gasleft();
        storageMarket.prove(dealId, slot, epoch, nodes, leaf);
        emit log_named_uint("prove gas (execution)", before - gasleft());
    }

    function rollPastEpoch(uint256 dealId, uint32 epoch) internal {
        (, uint64 closes) = storageMarket.proofWindowOf(dealId, epoch);
        vm.roll(closes);
    }

    function test_twoProvidersProveEveryEpochAndArePaid() public {
        uint256 dealId = create(2);
        assertEq(token.balanceOf(address(storageMarket)), uint256(PRICE) * 6 * 2, "escrow pulled up front");
        joinAs(p1, dealId, 0);
        joinAs(p2, dealId, 1);
        uint256 b1 = token.balanceOf(p1);
        uint256 b2 = token.balanceOf(p2);
        for (uint32 e = 1; e < 6; e++) {
            proveAs(p1, dealId, 0, e);
            proveAs(p2, dealId, 1, e);
        }
        assertEq(token.balanceOf(p1) - b1, 5 * uint256(PRICE), "p1 paid per proven epoch");
        assertEq(token.balanceOf(p2) - b2, 5 * uint256(PRICE), "p2 paid per proven epoch");
        vm.prank(p1);
        storageMarket.release(dealId, 0);
        assertEq(registry.nodeOf(p1).locked, 0, "collateral unlocked at the end");
        rollPastEpoch(dealId, 5);
        uint256 f = token.balanceOf(funder);
        storageMarket.refund(dealId);
        assertEq(token.balanceOf(funder) - f, 2 * uint256(PRICE), "epoch 0, before anyone held the data, refunded");
        assertEq(token.balanceOf(address(storageMarket)), 0, "market holds nothing after the deal");
    }

    function test_missedEpochSlashesToFunderAndAThirdProviderTakesTheSlot() public {
        uint256 dealId = create(2);
        joinAs(p1, dealId, 0);
        joinAs(p2, dealId, 1);
        proveAs(p1, dealId, 0, 1);
        proveAs(p2, dealId, 1, 1);
        proveAs(p1, dealId, 0, 2); // p2 deleted its blocks: no proof for epoch 2
        rollPastEpoch(dealId, 2);
        uint256 f = token.balanceOf(funder);
        uint256 staked = registry.nodeOf(p2).staked;
        vm.prank(challenger); // anyone may report
        storageMarket.reportMissed(dealId, 1);
        assertEq(token.balanceOf(funder) - f, COLLATERAL / 2, "half the collateral to the funder");
        assertEq(staked - registry.nodeOf(p2).staked, COLLATERAL / 2, "slashed from p2's stake");
        assertEq(registry.nodeOf(p2).locked, 0, "the rest unlocked");
        assertEq(storageMarket.slotInfo(dealId, 1).provider, address(0), "slot open");
        joinAs(p3, dealId, 1);
        uint32 first = storageMarket.slotInfo(dealId, 1).nextEpoch;
        assertEq(first, 4, "the new provider owes from the next epoch");
        proveAs(p1, dealId, 0, 3);
        uint256 b3 = token.balanceOf(p3);
        proveAs(p3, dealId, 1, first);
        assertEq(token.balanceOf(p3) - b3, PRICE, "the new provider is paid");
        // The slashed provider cannot prove its missed epoch any more.
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.NotProvider.selector, dealId, 1, p2));
        vm.prank(p2);
        storageMarket.prove(dealId, 1, 2, new bytes[](0), "");
    }

    /// Whichever epochs slot 0 lets pass, the market holds exactly the deal's escrow after
    /// every step, pays each proven epoch once, and holds nothing after the refund.
    function testFuzz_escrowMatchesPaymentsWhateverIsMissed(uint8 misses) public {
        uint256 dealId = create(2);
        joinAs(p1, dealId, 0);
        joinAs(p2, dealId, 1);
        uint256 proofs = 0;
        for (uint32 e = 1; e < 6; e++) {
            bool held = storageMarket.slotInfo(dealId, 0).provider == p1;
            if (held && (misses >> e) & 1 == 0) {
                proveAs(p1, dealId, 0, e);
                proofs += 1;
            }
            proveAs(p2, dealId, 1, e);
            proofs += 1;
            rollPastEpoch(dealId, e);
            if (held && (misses >> e) & 1 == 1) storageMarket.reportMissed(dealId, 0);
            assertEq(token.balanceOf(address(storageMarket)), storageMarket.dealInfo(dealId).escrow, "market balance == escrow");
            assertEq(storageMarket.dealInfo(dealId).escrow, uint256(PRICE) * (12 - proofs), "escrow == funded - paid");
        }
        uint256 f = token.balanceOf(funder);
        storageMarket.refund(dealId);
        assertEq(token.balanceOf(funder) - f, uint256(PRICE) * (12 - proofs), "the unearned escrow goes back");
        assertEq(token.balanceOf(address(storageMarket)), 0, "nothing stuck");
    }

    /// The chain says so when the last replica is lost: `DataUnheld`, for anyone watching
    /// (a DAO, a storer looking for a slot) to fund or fetch it again.
    function test_lastReplicaLostLeavesTheDataUnheld() public {
        uint256 dealId = create(1);
        joinAs(p1, dealId, 0);
        rollPastEpoch(dealId, 1);
        svm.expectEmit();
        emit DataUnheld(dealId, 1);
        storageMarket.reportMissed(dealId, 0);
        assertEq(storageMarket.dealInfo(dealId).held, 0, "no slot holds the data");
    }

    /// While another replica still holds the data, a miss is not reported as data lost.
    function test_aMissWithAReplicaLeftIsNotDataUnheld() public {
        uint256 dealId = create(2);
        joinAs(p1, dealId, 0);
        joinAs(p2, dealId, 1);
        proveAs(p1, dealId, 0, 1);
        rollPastEpoch(dealId, 1);
        svm.recordLogs();
        storageMarket.reportMissed(dealId, 1);
        Log[] memory logs = svm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; i++) {
            assertTrue(logs[i].topics[0] != DataUnheld.selector, "no DataUnheld while p1 holds the data");
        }
        assertEq(storageMarket.dealInfo(dealId).held, 1, "one slot still holds the data");
    }

    function test_attack_lateProof() public {
        (uint256 dealId, bytes[] memory nodes, bytes memory leaf) = soloChallenge(1);
        (uint64 opens, uint64 closes) = storageMarket.proofWindowOf(dealId, 1);
        vm.roll(closes);
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.OutsideWindow.selector, opens, closes, closes));
        vm.prank(p1);
        storageMarket.prove(dealId, 0, 1, nodes, leaf);
    }

    function test_attack_proofBeforeTheDrawIsFinal() public {
        (uint256 dealId, bytes[] memory nodes, bytes memory leaf) = soloChallenge(1);
        (uint64 opens, uint64 closes) = storageMarket.proofWindowOf(dealId, 1);
        vm.roll(opens - 1);
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.OutsideWindow.selector, opens, closes, opens - 1));
        vm.prank(p1);
        storageMarket.prove(dealId, 0, 1, nodes, leaf);
    }

    function test_attack_forgedLeafThroughTheMarket() public {
        (uint256 dealId, bytes[] memory nodes, bytes memory leaf) = soloChallenge(1);
        bytes memory other = F.otherLeaf();
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.HashMismatch.selector, nodes.length, sha256(leaf), sha256(other)));
        vm.prank(p1);
        storageMarket.prove(dealId, 0, 1, nodes, other);
    }

    function test_attack_skipAnOwedEpoch() public {
        (uint256 dealId, bytes[] memory nodes, bytes memory leaf) = soloChallenge(2);
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.WrongEpoch.selector, dealId, 0, 1, 2));
        vm.prank(p1);
        storageMarket.prove(dealId, 0, 2, nodes, leaf);
    }

    /// A provider that proved every epoch keeps proving past the deal's end, to take the
    /// escrow left for the funder (epoch 0, which nobody held).
    function test_attack_proveBeyondTheDeal() public {
        uint256 dealId = create(1);
        joinAs(p1, dealId, 0);
        for (uint32 e = 1; e < 6; e++) proveAs(p1, dealId, 0, e);
        (bytes[] memory nodes, bytes memory leaf) = challenge(dealId, 0, 6);
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.DealOver.selector, dealId, 6));
        vm.prank(p1);
        storageMarket.prove(dealId, 0, 6, nodes, leaf);
        vm.prank(p1);
        storageMarket.release(dealId, 0);
        storageMarket.refund(dealId);
        assertEq(token.balanceOf(funder), FUNDS - 5 * uint256(PRICE), "the funder paid for the 5 proven epochs only");
    }

    function test_attack_reportAnHonestProvider() public {
        uint256 dealId = create(1);
        joinAs(p1, dealId, 0);
        proveAs(p1, dealId, 0, 1);
        rollPastEpoch(dealId, 1);
        (, uint64 closes) = storageMarket.proofWindowOf(dealId, 2);
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.NotMissed.selector, dealId, 0, 2, closes));
        storageMarket.reportMissed(dealId, 0);
    }

    function test_attack_withdrawEscrowTwice() public {
        uint256 dealId = create(1);
        uint64 endsAt = uint64(block.number) + 6 * 20;
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.DealRunning.selector, dealId, endsAt));
        storageMarket.refund(dealId);
        vm.roll(endsAt);
        storageMarket.refund(dealId);
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.AlreadyRefunded.selector, dealId));
        storageMarket.refund(dealId);
        assertEq(token.balanceOf(address(storageMarket)), 0, "refunded once");
    }

    function test_attack_oneProviderTwoReplicas() public {
        uint256 dealId = create(2);
        joinAs(p1, dealId, 0);
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.AlreadyInDeal.selector, dealId, p1));
        joinAs(p1, dealId, 1);
        svm.expectRevert(abi.encodeWithSelector(StorageMarketTypes.SlotOccupied.selector, dealId, 0, p1));
        joinAs(p2, dealId, 0);
    }

    function test_attack_dealOnABlockThatIsNotAVersion() public {
        vm.prank(funder);
        svm.expectRevert(abi.encodeWithSelector(StorageProofs.NotAVersion.selector, 0));
        storageMarket.createDeal(F.otherLeaf(), terms(1));
    }
}
