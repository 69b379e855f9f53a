package io.moeoracle.ep;

import io.moeoracle.api.error.BadInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which rank holds which experts: every rank holds {@code E / R} experts (the spec's
 * {@code localExperts}), in a slot order. Contiguous blocks by default; a host may give any
 * placement (to spread hot experts, say). Internally expert {@code g} becomes the "virtual" id
 * {@code owner(g) * El + slot(g)}, so every rank's kernel sees its experts as the contiguous block
 * {@code [rank*El, (rank+1)*El)} that the spec's {@code expertParallelRank} describes.
 */
public final class ExpertPlacement {
    private final int[] owner;
    private final int[] slot;
    private final int ranks;
    private final int local;

    private ExpertPlacement(int[] owner, int[] slot, int ranks) {
        this.owner = owner;
        this.slot = slot;
        this.ranks = ranks;
        this.local = owner.length / ranks;
    }

    /**
     * @param experts E
     * @param ranks R, dividing E
     * @return rank r holds experts {@code [r*E/R, (r+1)*E/R)}
     */
    public static ExpertPlacement contiguous(int experts, int ranks) {
        check(experts, ranks);
        int el = experts / ranks;
        int[] owner = new int[experts];
        int[] slot = new int[experts];
        for (int g = 0; g < experts; g++) {
            owner[g] = g / el;
            slot[g] = g % el;
        }
        return new ExpertPlacement(owner, slot, ranks);
    }

    /**
     * @param expertsPerRank for each rank, the global expert ids it holds, in slot order; together
     *     every id of {@code [0, E)} exactly once, every rank the same number
     * @return the placement
     * @throws BadInputException naming the rank and expert that break the rule
     */
    public static ExpertPlacement of(List<List<Integer>> expertsPerRank) {
        int ranks = expertsPerRank.size();
        if (ranks == 0) {
            throw new BadInputException("a placement needs at least one rank");
        }
        int el = expertsPerRank.getFirst().size();
        int experts = el * ranks;
        int[] owner = new int[experts];
        int[] slot = new int[experts];
        Arrays.fill(owner, -1);
        for (int r = 0; r < ranks; r++) {
            List<Integer> mine = expertsPerRank.get(r);
            if (mine.size() != el) {
                throw new BadInputException("rank " + r + " holds " + mine.size() + " experts but rank 0 holds " + el
                        + ": every rank holds E/R experts (the kernels' spec has one localExperts for all)");
            }
            for (int s = 0; s < el; s++) {
                int g = mine.get(s);
                if (g < 0 || g >= experts) {
                    throw new BadInputException("rank " + r + " lists expert " + g + ", outside [0, " + experts + ")");
                }
                if (owner[g] >= 0) {
                    throw new BadInputException("expert " + g + " is placed on rank " + owner[g] + " and on rank " + r
                            + "; each expert lives on exactly one rank");
                }
                owner[g] = r;
                slot[g] = s;
            }
        }
        return new ExpertPlacement(owner, slot, ranks);
    }

    private static void check(int experts, int ranks) {
        if (ranks < 1 || experts < 1 || experts % ranks != 0) {
            throw new BadInputException(ranks + " ranks cannot share " + experts + " experts evenly: the number of"
                    + " ranks must divide the number of experts");
        }
    }

    /** @return E */
    public int experts() {
        return owner.length;
    }

    /** @return R */
    public int ranks() {
        return ranks;
    }

    /** @return experts per rank, {@code E / R} */
    public int localExperts() {
        return local;
    }

    /**
     * @param expert a global expert id
     * @return the rank that holds it
     */
    public int owner(int expert) {
        return owner[expert];
    }

    /**
     * @param expert a global expert id
     * @return its slot on its rank
     */
    public int slot(int expert) {
        return slot[expert];
    }

    /**
     * @param expert a global expert id
     * @return {@code owner * El + slot}: the id the owning rank's kernel knows it by
     */
    public int virtualId(int expert) {
        return owner[expert] * local + slot[expert];
    }

    /** @return {@link #virtualId} of every expert, indexed by global id */
    public int[] virtualIds() {
        int[] v = new int[owner.length];
        for (int g = 0; g < v.length; g++) {
            v[g] = virtualId(g);
        }
        return v;
    }

    /**
     * @param rank a rank
     * @return the global ids it holds, in slot order
     */
    public int[] expertsOf(int rank) {
        int[] out = new int[local];
        for (int g = 0; g < owner.length; g++) {
            if (owner[g] == rank) {
                out[slot[g]] = g;
            }
        }
        return out;
    }

    /** @return whether rank r holds {@code [r*El, (r+1)*El)} in order (no remapping needed) */
    public boolean isContiguous() {
        for (int g = 0; g < owner.length; g++) {
            if (virtualId(g) != g) {
                return false;
            }
        }
        return true;
    }

    /** @return for each rank its experts, as {@link #of} takes them */
    public List<List<Integer>> asLists() {
        List<List<Integer>> out = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            out.add(Arrays.stream(expertsOf(r)).boxed().toList());
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExpertPlacement p && Arrays.equals(owner, p.owner) && Arrays.equals(slot, p.slot);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(owner) + Arrays.hashCode(slot);
    }

    @Override
    public String toString() {
        return isContiguous() ? "contiguous(" + owner.length + " experts / " + ranks + " ranks)"
                : "placement" + asLists();
    }
}
